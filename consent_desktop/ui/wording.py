"""Every sentence a user of the desktop app reads, in one place, so it can be reviewed and translated.

Written for the desk, in the NHS digital service manual's content style (sentence case, no block capitals, "do
not" rather than "don't", "cannot", "to" in ranges, no unexplained abbreviations; see docs/desk-wording.md).
Codes (Spine's stored values, RBAC activities, registry keys) never stand on their own here: they appear only in
the "For the help desk" details. Two deliberate exceptions, both from the NHS Common User Interface (CUI) that
clinical screens follow: dates on screen are ``14-Jul-1945`` and times are 24-hour with the zone (``10:42 GMT``).
The patient's slip uses the service manual's own style (``25 November 2026``).

Widgets import what they show from here; words that several screens share (the three consent states, the GP
system entry) are defined once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from consent_desktop.domain.consent import ConsentChoice, ConsentFunction, ConsentRecord, ExpressedBy, Permission
from consent_desktop.domain.patient import cui_date
from consent_desktop.domain.uk_time import UK, uk_clock_time

APP = "Consent Desktop"
ELLIPSIS = "\N{HORIZONTAL ELLIPSIS}"
DASH = "\N{EM DASH}"

# --- times and dates --------------------------------------------------------------------------------------------


def when(moment: datetime) -> str:
    """``10:42 GMT on 25-Nov-2026``: UK time, its zone named, whatever the workstation's zone (CUI date)."""
    return f"{uk_clock_time(moment)} on {cui_date(moment.astimezone(UK).date())}"


def now() -> str:
    """The time now, as :func:`when` words it (without the date)."""
    return uk_clock_time(datetime.now(UK))


_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def long_date(day: date) -> str:
    """``25 November 2026`` (a moment's date in UK time): the service manual's date style, for what the patient
    takes away."""
    if isinstance(day, datetime):
        day = day.astimezone(UK).date()
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


# --- the window, the training banner and the status strip -------------------------------------------------------

TRAINING_TITLE = f"{APP} {DASH} training"
TRAINING_BANNER = "Training mode: invented patients, and nothing is sent to the NHS."
TRAINING_MARKER = "Training mode"
TRAINING_MARKER_DESCRIPTION = "No real patient data is involved"
TRAINING_CARD_IN = "Training card in the reader: {card}"
TRAINING_NO_CARD = "No training card in the reader"
REMOVE_CARD = "Re&move card"
REMOVE_CARD_NAME = "Remove the training smartcard, as you would take out your own card"
TRAINING_CARDS = "Training smartcards"
TRAINING_CARDS_DESCRIPTION = "Insert or remove a test user's software smartcard"
TRAINING_PASSCODE = "The passcode of every training card is {passcode}."
TRAINING_IN_READER = "In the reader: {card}"
TRAINING_NOTHING_IN_READER = "no card"
TRAINING_CHOOSE = "Training &card"
TRAINING_CHOOSE_NAME = "Training card to insert"
TRAINING_INSERT = "&Insert"
TRAINING_INSERT_NAME = "Insert the chosen training card"
TRAINING_REMOVE = "Re&move"
TRAINING_REMOVE_NAME = "Remove the training card from the reader"

MENU_USER = "&User"
MENU_SETTINGS = f"&Settings{ELLIPSIS}"
MENU_SIGN_OUT = "Sign &out"
MENU_EXIT = "E&xit"
WAIT_BEFORE_CLOSING = f"A change is being saved to Spine. Wait for the result before closing {APP}."
SIGNED_OUT_BECAUSE_OTHER_CARD = "A different smartcard was used to unlock, so the previous user has been signed out."

STATUS = "Status"
NOT_SIGNED_IN = "Not signed in"
SIGNED_IN_USER = "Signed-in user"
SIGNED_IN_AS = "Signed in: {name}"
ROLE = "Role"
ROLE_TIP = "Your role"
ORGANISATION = "Organisation"
ORGANISATION_TIP = "The organisation you are working for"
CONNECTION = "Connection"
READY = "Ready"
BUSY = "Busy: {what}"
LAST_PROBLEM = "Last problem"
LAST_PROBLEM_AT = "Last problem at {time}: {message}"

# --- the help desk details under a message ---------------------------------------------------------------------

HELP_DESK = "For the help desk"
HELP_DESK_DESCRIPTION = "Shows technical details to give the help desk"
HELP_DESK_ERROR = "Error: {kind}"
HELP_DESK_WHILE = "While trying to: {action}"
HELP_DESK_DETAILS = "Details: {details}"
HELP_DESK_RETRY = "Trying again may help."
HELP_DESK_NO_RETRY = "Trying again is unlikely to help."
# kind of message -> the word that says it without colour
MESSAGE_WORDS = {"error": "Problem", "warning": "Warning", "info": "Information", "success": "Done"}
CRASH_TITLE = "Something went wrong"
CRASH_MESSAGE = (
    f"Something went wrong inside {APP}. What you were doing may not have finished: check the patient's "
    "choice again before going on. The details have been written to the diagnostic log. If this happens again, "
    "tell the help desk."
)
CRASH_DETAILS = "Unexpected error: {kind}\n{where}\nFault {fault}"
CRASH_LOG_AT = "The diagnostic log is {path}."
CRASH_SEE_LOG = "See the diagnostic log."
CANNOT_START = f"{APP} cannot start"
CANNOT_START_ACTION = f"start {APP}"
CLOSE = "Close"

# --- signing in, the lock and the role --------------------------------------------------------------------------

SIGN_IN = "Sign in"
SIGN_IN_BUTTON = "&Sign in"
SIGN_IN_WITH_CARD = "Sign in with your NHS smartcard"
SIGN_IN_WITH_CIS2 = "Sign in with NHS CIS2"
SIGN_IN_SERVICE = "Sign-in service: {name}"
SIGN_IN_IN_BROWSER = f"&Sign in in the browser{ELLIPSIS}"
SIGN_IN_IN_BROWSER_NAME = "Sign in with CIS2"
SIGN_IN_BROWSER_WAIT = "Sign in in the browser window that has opened, then come back here."
CANCEL_SIGN_IN = "&Cancel sign-in"
CANCEL_SIGN_IN_NAME = "Cancel sign-in"
PASSCODE = "&Passcode"
PASSCODE_NAME = "Smartcard passcode"
PASSCODE_DESCRIPTION = "Your smartcard passcode; it is not shown"
FINAL_TRY = "One attempt left before your card is locked. Type the passcode carefully."
CHECKING_CARD = f"Checking your smartcard{ELLIPSIS}"
CARD_STATUS = "Smartcard status"
CARD_CHECKING = f"Checking for your smartcard{ELLIPSIS}"
CARD_READY = f"Smartcard ready {DASH} enter your passcode."
CARD_READY_BROWSER = f"Smartcard ready {DASH} choose Sign in in the browser."  # CIS2: the passcode goes there
CARD_NONE = "Insert your smartcard."
CARD_NO_READER = "No smartcard reader found. Check the reader is plugged in. If it is, tell the help desk."

LOCKED = "Locked"
UNLOCK = "Unlock"
UNLOCK_BUTTON = "&Unlock"
LOCKED_REMOVED = "Your smartcard was removed, so the session is locked. Insert your smartcard and enter your passcode."
LOCKED_READER = (
    "The smartcard reader stopped responding, so the session is locked. Check the reader, then insert your "
    "smartcard and enter your passcode."
)
LOCKED_WHO = "Signed in: {name}"
LOCKED_WHO_ROLE = "Signed in: {name} {dash} {role}"
SOMEONE = "Someone"
OTHER_CARD_SIGNS_OUT = "If a different smartcard is used, the person signed in now is signed out."
SIGN_OUT = "Sign &out"
SIGN_OUT_NAME = "Sign out"

CHOOSE_ROLE = "Choose your role"
CHOOSE_ROLE_TITLE = "Choose the role you are working in"
ROLE_WHO = "You are signed in as {name}. Your smartcard has {count} roles."
ROLE_UNNAMED = "an unnamed user"
YOUR_ROLES = "Your roles"
CONTINUE = "&Continue"
CONTINUE_IN_ROLE = "Continue in the chosen role"
STARTING_SESSION = f"Starting your session{ELLIPSIS}"

# --- finding the patient ----------------------------------------------------------------------------------------

FIND_A_PATIENT = "Find a patient"
FIND_BY_NUMBER = "Find by NHS number"
NHS_NUMBER = "&NHS number"
NHS_NUMBER_NAME = "NHS number"
NHS_NUMBER_DESCRIPTION = "Ten digits; spaces are added for you"
NHS_NUMBER_PLACEHOLDER = "10 digits"
NHS_NUMBER_VALID = "Valid NHS number"
NHS_NUMBER_PARTIAL = "{count} of 10 digits"
NHS_NUMBER_TOO_LONG = "An NHS number has 10 digits. This has {count}."
NHS_NUMBER_DIGITS_ONLY = "Only digits can go in an NHS number. The rest was left out."
FIND = "F&ind"
FIND_NAME = "Find the patient by NHS number"
FIND_BY_DETAILS = "Or find by name and date of birth"
FIND_BY_DETAILS_NAME = "Find by name, gender and date of birth"
FAMILY_NAME, GIVEN_NAME, GENDER, BIRTH, POSTCODE = "Family name", "Given name", "Gender", "Date of birth", "Postcode"
CAPTIONS = {
    "family_name": "&Family name",
    "given_name": "&Given name",
    "gender": "G&ender",
    "date_of_birth": "&Date of birth",
    "postcode": "&Postcode",
}
REQUIRED = "Required"
GIVEN_NAME_HINT = "Optional; helps when several people match"
BIRTH_HINT = "One date, for example 31-Jan-1980"
BIRTH_PLACEHOLDER = "For example 31-Jan-1980"
POSTCODE_HINT = "Optional, for example AB1 2CD"
OPTIONAL = "Optional"
CHOOSE = f"Choose{ELLIPSIS}"
SEARCH = "&Search"
SEARCH_NAME = "Search by these details"
SEARCH_RESULT = "Search result"
CANCEL_SEARCH = "Cance&l"
CANCEL_SEARCH_NAME = "Cancel the search"
WAIT_FOR_SAVE = "Finding another patient is paused until the change being saved to Spine has an answer."
FIELD_MESSAGE = "{field} message"

NO_PATIENT = "No patient selected. Find a patient by NHS number, or by name and date of birth."
FINDING_PATIENT = f"Finding the patient{ELLIPSIS} The last patient has been closed."
NOT_FOUND_NO_PATIENT = "No patient selected."
NOTICE = "Notice"
PATIENT_SCREEN = "Patient's Summary Care Record choice"

# --- the patient banner -----------------------------------------------------------------------------------------

BANNER = "Patient banner"
PATIENT_NAME = "Patient name {name}"
DECEASED = "Deceased"
BORN, GENDER_CAPTION, NHS_NO, DIED, ADDRESS, GP_PRACTICE = "Born", "Gender", "NHS No.", "Died", "Address", "GP practice"
BANNER_CAPTIONS = (BORN, GENDER_CAPTION, NHS_NO, DIED, ADDRESS, GP_PRACTICE)
NOT_SHOWN_RESTRICTED = "Not shown (restricted record)"
CHECK_IDENTITY = "Check the name, date of birth and address with the patient before changing anything."
CHECK_RESTRICTED = (
    "Check the name and date of birth with the patient before changing anything. The address is not shown."
)
RIGHT_PATIENT = "&This is the right patient"
RIGHT_PATIENT_NAME = "Confirm this is the right patient"
RIGHT_PATIENT_DESCRIPTION = "Needed before the patient's choice can be changed"
CONFIRMED_AT = "You confirmed this is the right patient at {time}."
NOTICE_PREFIX = "Notice: {text}"
# The registered practice. PDS gives its practice code only; its name is known here only when it is our own.
THIS_PRACTICE = "{name} ({code}) {dash} this practice"
THIS_PRACTICE_NO_NAME = "This practice ({code})"
OTHER_PRACTICE = "Another practice (practice code {code})"
OTHER_PRACTICE_NOTICE = (
    "Registered with another GP practice (practice code {code}), not with {ours}. Check this is the right "
    "patient. Their own practice keeps the record of their choice in its GP system."
)
OUR_PRACTICE = "this practice"

# --- the patient's choice on Spine: three states, each with its own icon, colour and words ---------------------


class ShownState(Enum):
    """What the consent panel shows. Icon, colour and words each say it alone (never colour only)."""

    OPTED_OUT = "opted-out"
    SHARING = "sharing"
    NOT_KNOWN = "not-known"


STATE_HEADLINE = {
    ShownState.OPTED_OUT: f"Opted out {DASH} their Summary Care Record is not shared",
    ShownState.SHARING: f"Sharing {DASH} no opt-out recorded (the default)",
    ShownState.NOT_KNOWN: f"Not known {DASH} use Check again to read what Spine holds now",
}
STATE_MEANS = {
    ShownState.OPTED_OUT: (
        "Health and care staff outside the GP practice cannot see this patient's Summary Care Record."
    ),
    ShownState.SHARING: (
        "Health and care staff can see this patient's Summary Care Record, after asking the patient's "
        "permission when they need to."
    ),
    ShownState.NOT_KNOWN: "Do not tell the patient anything about their choice until Spine has been read.",
}
STATE_ICON = {ShownState.OPTED_OUT: "opted-out", ShownState.SHARING: "sharing", ShownState.NOT_KNOWN: "not-known"}
STATE_SHORT = {ShownState.OPTED_OUT: "Opted out", ShownState.SHARING: "Sharing", ShownState.NOT_KNOWN: "Not known"}


def shown_state(record: ConsentRecord | None) -> ShownState:
    if record is None:
        return ShownState.NOT_KNOWN
    return ShownState.OPTED_OUT if record.choice is ConsentChoice.OPTED_OUT else ShownState.SHARING


def state_of(choice: ConsentChoice) -> ShownState:
    return ShownState.OPTED_OUT if choice is ConsentChoice.OPTED_OUT else ShownState.SHARING


# Spine keeps no sign of an opt-in: a patient who opted back in looks on Spine exactly like one who never opted
# out. Said only when this app has just made that change, and never as a state of its own.
OPTED_BACK_IN = (
    "Opted back in at {time}: their opt-out was removed from Spine. Spine now holds no opt-out, the same as for "
    "anyone who has never opted out."
)
OLD_YES = "Spine holds an older yes to sharing, which counts the same as no opt-out."
MIXED = (
    "Spine holds this patient's choice in two parts that do not agree. One part says opted out, so they are shown "
    "as opted out."
)
CONSENT_ON_SPINE = "The patient's Summary Care Record choice on Spine"
CONSENT_VALUE_NAME = "Choice on Spine: {text}"
READING = f"Reading Spine{ELLIPSIS}"
READ_AT = "Read from Spine at {time}."
CHECKING_AGAIN = f"Read from Spine at {{time}}. Checking Spine again{ELLIPSIS}"
PROBLEM_READING = "Problem reading the choice on Spine"
CANNOT_READ = "Spine's value could not be read"
ACS_VALUE = "Spine (Access Control Service) holds: {values}."
ACS_NOTHING = "no permission recorded (the default)"
ACS_ASSERTION = "{function} = {permission}"


def acs_details(record: ConsentRecord) -> str:
    """What Spine stores, word for word: for the help desk only."""
    if not record.assertions:
        return ACS_VALUE.format(values=ACS_NOTHING)
    values = ", ".join(ACS_ASSERTION.format(function=a.function.value, permission=a.permission.value)
                       for a in record.assertions)  # fmt: skip
    return ACS_VALUE.format(values=values)


def record_notes(record: ConsentRecord) -> tuple[str, ...]:
    """What the desk should know about how Spine stores this choice, in its words (codes are in the details)."""
    notes = []
    if any(a.permission is Permission.YES for a in record.assertions):
        notes.append(OLD_YES)
    view, store = record.permission_for(ConsentFunction.VIEW), record.permission_for(ConsentFunction.STORE)
    if (view is Permission.NO) != (store is Permission.NO) and (view or store):
        notes.append(MIXED)
    return tuple(notes)


# --- the actions on the patient's choice ------------------------------------------------------------------------

CHANGE = f"&Change{ELLIPSIS}"
CHANGE_NAME = "Change the patient's choice"
CHECK_AGAIN = "Check &again"
CHECK_AGAIN_NAME = "Check again: read the patient's choice from Spine again"
HISTORY = f"&History{ELLIPSIS}"
HISTORY_NAME = "Changes made on this computer"
PRINT_SLIP = f"P&rint slip{ELLIPSIS}"
PRINT_SLIP_NAME = "Print a confirmation slip for the patient"
SAVE_SLIP_BUTTON = f"Sa&ve slip as PDF{ELLIPSIS}"
SAVE_SLIP_NAME = "Save a confirmation slip for the patient as a PDF file"
WHY_NOT = "Why the choice cannot be changed"
NOT_AVAILABLE = "Not available"
INFORMATION = "Information"
CANNOT_CHANGE_ROLE = (
    "Your role ({role}) cannot change a patient's Summary Care Record choice. You can still see it. If you need "
    "to change choices, ask your smartcard sponsor to add this to your role."
)
CANNOT_CHANGE_SAVING = "A change is being saved to Spine."
CANNOT_CHANGE_UNREAD = "Spine's value has not been read. Use Check again first."
CANNOT_CHANGE_UNCONFIRMED = "Confirm this is the right patient before changing their choice."
GP_SYSTEM_NOTE = (
    "Whether the patient agreed to share core information only, or core and additional information, is "
    "recorded in the practice's GP system, not on Spine. This app cannot record it."
)

# --- changing the choice ----------------------------------------------------------------------------------------

CHANGE_TITLE = "Change the patient's Summary Care Record choice"
ON_SPINE_NOW = "On Spine now: {state}"
NEW_CHOICE = "What does the patient want?"
CHOICE_WORDS = {
    ConsentChoice.OPTED_OUT: "Opt out: do not share their Summary Care Record",
    ConsentChoice.ASK_PERMISSION: "Opt back in: share their Summary Care Record",
}
CURRENT_CHOICE = "{choice} (their choice now)"
CONSEQUENCES = {
    ConsentChoice.OPTED_OUT: (
        "Health and care staff outside the GP practice will not be able to see this patient's Summary Care Record."
    ),
    ConsentChoice.ASK_PERMISSION: (
        "Health and care staff will be able to see this patient's Summary Care Record, after asking the patient's "
        "permission when they need to."
    ),
}
HOW_GIVEN = "How did you get the patient's instruction?"
HOW_GIVEN_NAME = "How the patient gave the instruction"
# Only instructions given in person or in writing are offered; the older "by phone" stays readable in history.
OFFERED_WAYS = (ExpressedBy.IN_PERSON, ExpressedBy.SIGNED_FORM, ExpressedBy.REPRESENTATIVE)
EXPRESSED = {
    ExpressedBy.IN_PERSON: "In person",
    ExpressedBy.SIGNED_FORM: "In writing, on a signed form",
    ExpressedBy.BY_PHONE: "By phone",
    ExpressedBy.REPRESENTATIVE: "Through a representative, in person or in writing",
}
REPRESENTATIVE_CHECK = "Check that the representative has the authority to make this choice for the patient."
HAVE_INSTRUCTION = "I have this instruction in &person or in writing"
HAVE_INSTRUCTION_NAME = "I have the patient's instruction in person or in writing"
HAVE_INSTRUCTION_DESCRIPTION = "Needed before the change can go to Spine"
CHOOSE_HOW = "Choose how you got the patient's instruction."
CONFIRM_INSTRUCTION = "Confirm you have the patient's instruction in person or in writing."
NOTE = "&Note (optional)"
NOTE_NAME = "Note"
NOTE_DESCRIPTION = "Optional, at most {limit} characters; kept in the record of changes on this computer"
NOTE_COUNT = "{length} of {limit} characters"
NOTE_TOO_LONG = f" {DASH} too long: shorten the note."
GO_ON = "&Continue"
GO_ON_NAME = "Continue to the check before saving"
CANCEL = "Cancel"
CANCEL_NAME = "Cancel the change"
DISCARD_TITLE = "Discard this change?"
DISCARD_QUESTION = "You have started a change that has not been sent to Spine. Discard it?"
DISCARD = "&Discard the change"
KEEP_EDITING = "&Keep editing"

CHECK_TITLE = "Check before saving"
CHECK_HEADING = "Check before saving to Spine"
PATIENT = "Patient"
FROM, TO, HOW, NOTE_ROW = "From", "To", "Instruction", "Note"
NO_NOTE = "None"
CANNOT_CANCEL = "Once sent, a change cannot be cancelled."
SENDS_AT_ONCE = f"Saving sends the change to Spine at once. {CANNOT_CANCEL}"
SAVE_TO_SPINE = "&Save to Spine"
SAVE_TO_SPINE_NAME = "Save the change to Spine"
CANCEL_NOTHING_SENT = "Cancel; nothing is sent"

# --- the answer ---------------------------------------------------------------------------------------------------

RESULT = "Result of the change"
SAVING = f"Saving to Spine{ELLIPSIS}"
SAVING_WAIT = f"Wait for Spine's answer before telling the patient anything. {CANNOT_CANCEL}"
SAVED_NOW_HOLDS = "Spine now holds: {state}."
SAVED_CHECKED = "This was checked by reading the value back from Spine."
SAVED_READING = "Spine accepted the change. Reading it back to show it here."
NOT_SAVED_SHOWN = "What is shown above is what Spine holds."
NOT_SAVED_NOTHING_SENT = f"NOT saved {DASH} nothing was sent to Spine"
UNCONFIRMED_NOW_SHOWS = "Spine now shows: {state}. Check again before telling the patient anything."
UNCONFIRMED_CHECK = (
    "Use Check again to read what Spine holds now. Do not tell the patient the change was made until it shows."
)
ELSEWHERE_RESULT = "Change to {state} for NHS No. {number}: {headline}."
SAVING_SCREEN_PAUSED = f"{WAIT_FOR_SAVE} {CANNOT_CANCEL}"

# --- what the practice records in its GP system (SNOMED CT, from the source cited in docs/desk-wording.md) ------


@dataclass(frozen=True)
class GpSystemEntry:
    concept_id: str
    term: str

    @property
    def copied(self) -> str:
        """The form GP systems and SNOMED CT browsers accept when pasted: ``id |term|``."""
        return f"{self.concept_id} |{self.term}|"


# NHS Digital's DocumentConsentSnCT vocabulary (SNOMED CT UK subset 43961000000137), the national shared
# electronic record being the Summary Care Record. See docs/desk-wording.md for the source and its limits.
GP_SYSTEM_ENTRY = {
    ConsentChoice.OPTED_OUT: GpSystemEntry(
        "416308001", "Refused consent for upload to national shared electronic record"
    ),
    ConsentChoice.ASK_PERMISSION: GpSystemEntry(
        "417370002", "Consent given for upload to national shared electronic record"
    ),
}
GP_RECORD_HEADING = "Now record this in the practice's GP system"
GP_RECORD_WHY = (
    "Spine now holds the patient's choice. The practice's own record of it is in its GP system: add this entry "
    "to the patient's record there."
)
GP_RECORD_ENTRY = "{term} (SNOMED CT {concept_id})"
GP_RECORD_ELSEWHERE = (
    "The patient is registered with another practice (practice code {code}). Tell the patient to let their own "
    "practice know, so it records this entry in its GP system."
)
COPY = "C&opy entry"
COPY_NAME = "Copy the GP system entry"
COPIED = "Copied. Paste it into the GP system."
GP_RECORD_PANEL = "What to record in the GP system"

# --- the slip -----------------------------------------------------------------------------------------------------

SLIP_TITLE = "Your Summary Care Record choice"
SLIP_FILE_NAME = "SCR choice confirmation.pdf"
SLIP_FILE_FILTER = "PDF files (*.pdf)"
SLIP_SAVE_TITLE = "Save the confirmation slip"
SAVE_SLIP = "save the confirmation slip"  # the action named when the slip is written (and in the help desk details)
PRINT_SLIP_ACTION = "print the confirmation slip"
SLIP_SAVING = f"Saving the confirmation slip{ELLIPSIS}"
SLIP_SAVED = "Saved as {name} in {folder}."
SLIP_NOT_SAVED = "The confirmation slip was not saved"
SLIP_PRINTED = "The slip was sent to the printer."
SLIP_NOT_PRINTED = "The slip was not printed"
CANNOT_PRINT = "The printer could not be used. Check the printer, or save the slip as a PDF and print that."
SLIP_PANEL = "Confirmation slip"
SLIP_NAME, SLIP_NHS_NUMBER, SLIP_BORN = "Name", "NHS number", "Date of birth"
SLIP_CHOICE_HEADING = "Your choice, as now recorded on the NHS Spine"
TO_THE_PATIENT = {
    ConsentChoice.OPTED_OUT: (
        "You have opted out. Health and care staff outside your GP practice will not be able to see your Summary "
        "Care Record."
    ),
    ConsentChoice.ASK_PERMISSION: (
        "Your Summary Care Record is shared. Health and care staff can see it when they need to, after asking "
        "your permission."
    ),
}
SLIP_CHOICE = {
    ConsentChoice.OPTED_OUT: "Opted out of sharing your Summary Care Record",
    ConsentChoice.ASK_PERMISSION: "Sharing your Summary Care Record (no opt-out)",
}
SLIP_RECORDED = "Recorded at {time} on {date} by {who}."
SLIP_FOR_PRACTICE = "For your GP practice: record this choice in the GP system as {entry}."
SLIP_CORE_ONLY = (
    "Whether you agreed to share core information only, or core and additional information, is recorded "
    "separately by your GP practice."
)
SLIP_CHANGE_ANY_TIME = "You can change your choice at any time: ask your GP practice."
SLIP_TRAINING = "TRAINING"  # the mark across every page printed in training mode: not a real record
SLIP_TRAINING_LINE = "Training mode: this is not a real record."
NOT_KNOWN = "Not known"

# --- history -------------------------------------------------------------------------------------------------------

HISTORY_TITLE = "Changes made on this computer"
HISTORY_HEADING = "{name} {dash} NHS No. {number}"
HISTORY_COLUMNS = ("When", "Who", "Role", "Change", "Instruction", "Outcome", "Note")
HISTORY_LOCAL_ONLY = (
    "These are the changes made with this app on this computer. Spine keeps no history that this app can read, "
    "and changes made in other systems are not listed."
)
HISTORY_READING = f"Reading the record of changes{ELLIPSIS}"
HISTORY_NONE = "No changes for this patient have been made on this computer."
HISTORY_COUNT = "{count} change{s}, newest first."
HISTORY_TABLE = "Changes"
HISTORY_PROBLEM = "History problem"
HISTORY_USER = "User {user_id}"
HISTORY_ROLE = "Role {role}, {org}"
NOT_READ = "Not read"
CHANGES_ARROW = "{old} \N{RIGHTWARDS ARROW} {new}"

# --- settings -------------------------------------------------------------------------------------------------------

SETTINGS_TITLE = "Settings"
SETTINGS_INTRO = (
    "These are the settings this computer uses. Most are set by your IT team and can only be read here. A lock "
    "means Group Policy sets the value. Your text size is kept in {path}."
)
SETTINGS_COLUMNS = ("Setting", "Value", "Where it comes from")
SETTINGS_TABLE = "Settings"
SETTINGS_MESSAGE = "Settings message"
NOT_SET = "Not set"
NONE_SET = "None"
YES, NO = "Yes", "No"
HIDDEN_VALUE = "Set (not shown here)"
LOCKED_BY_POLICY = "Locked by Group Policy"
TEXT_SIZE = "&Text size"
TEXT_SIZE_NAME = "Text size"
TEXT_SIZE_DESCRIPTION = "Makes all text in the app larger"
APPLY = "&Apply"
APPLY_NAME = "Apply the text size"
TEXT_SIZE_SAVED = "Text size {percent}% saved."
TEXT_SIZE_LOCKED = "Text size: {why}."
TEXT_SIZE_SET_FOR_COMPUTER = "set for this computer by your IT team"
TEXT_SIZE_POLICY = "locked by Group Policy"
SAVE_PREFERENCES = "save your preferences"
PREFERENCES_HEADER = f"# Your {APP} preferences, written by the app's settings view.\n"
# Where a value comes from, by the start of its source's name.
SOURCE_WORDS = (
    ("default", "Default"),
    ("Group Policy", "Group Policy (locked)"),
    ("machine settings", "This computer's installation"),
    ("per-machine file", "This computer's settings file"),
    ("per-user file", "Your preferences file"),
    ("training", "Training mode"),
    ("environment", "Test override"),
    ("--config", "Settings file given at start"),
)
OVERRIDE_NOT_USED = "{where}; an override was not used"
OVERRIDE_NOT_USED_TIP = "Not used: a value from {source} ({reason})."
SOURCE_OTHER = "Settings file"
# Each setting in words. A setting not listed here is shown by its own description (``config``'s help text).
SETTING_WORDS = {
    "spine.endpoint": "Spine address",
    "spine.acs_url": "Address for reading and changing choices, if different",
    "spine.pds_url": "Address for finding patients, if different",
    "spine.spine_asid": "Spine's system number",
    "spine.acs_asid": "Spine's system number for choices, if different",
    "spine.pds_asid": "Spine's system number for finding patients, if different",
    "spine.local_asid": "This computer's system number",
    "spine.connect_timeout": "Seconds to wait to connect to Spine",
    "spine.read_timeout": "Seconds to wait for Spine's answer",
    "spine.get_attempts": "Tries for a read that failed",
    "spine.read_deadline": "Seconds a request to Spine may take in all",
    "spine.change_deadline": "Seconds a change may take before Spine is read to find out",
    "tls.ca_bundle": "Certificates Spine's certificate must come from",
    "tls.client_cert": "This computer's certificate",
    "tls.client_key": "This computer's certificate key",
    "auth.provider": "How users sign in",
    "auth.cis_url": "Smartcard sign-in service address",
    "auth.cis_role_assertion_url": "Smartcard sign-in: address for the roles of a sign-in, if different",
    "auth.cis_signature_digest": "Smartcard sign-in: how the card signs",
    "auth.pkcs11_module": "Smartcard software",
    "auth.card_ca_bundle": "Certificates smartcards must come from",
    "auth.lock_on_card_removal": "Lock when the smartcard is removed",
    "auth.allow_virtual_readers": "Accept virtual card readers (training only)",
    "auth.softhsm2_conf": "Training card set-up file",
    "auth.token_label": "Which card to use, if several",
    "auth.change_consent_activities": "Role permissions needed to change a choice",
    "auth.ods_code": "This practice's code",
    "cis2.issuer": "NHS CIS2 sign-in address",
    "cis2.client_id": "This app's NHS CIS2 name",
    "cis2.ca_bundle": "Certificates for NHS CIS2",
    "cis2.scopes": "What NHS CIS2 is asked for at sign-in",
    "cis2.token_auth_method": "How this app proves itself to NHS CIS2",
    "cis2.private_key": "This app's key for NHS CIS2",
    "cis2.private_key_id": "Name of this app's key for NHS CIS2",
    "cis2.client_secret_file": "File holding this app's NHS CIS2 secret",
    "cis2.redirect_port": "Port NHS CIS2 sends the sign-in back to",
    "cis2.max_auth_age": "Seconds an NHS CIS2 sign-in may be old when it arrives",
    "app.training_mode": "Training mode",
    "app.allow_developer_overrides": "Let test overrides set security settings (developer computers only)",
    "app.log_level": "Detail in the diagnostic log",
    "app.data_dir": "Folder for the record of changes",
    "ui.text_scale": "Text size",
}
# Values shown in words, where the setting holds a code.
VALUE_WORDS = {
    "auth.provider": {"cis": "NHS smartcard (CIS), legacy", "cis2": "NHS CIS2 (in the browser)"},
}
# Settings whose value is never shown: where a private key or secret lives is for IT's diagnostics, not a screen.
HIDDEN_SETTINGS = frozenset({"tls.client_key", "cis2.private_key", "cis2.client_secret_file"})
