"""One hierarchy for every error a user can meet.

Each error carries a plain message for a receptionist, a details string for IT (never patient-identifiable
data, PINs or tickets), and whether trying again can help. The UI and the CLI show errors through one function
that reads these three things; nothing else about an exception reaches a user.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class ConsentDesktopError(Exception):
    """Base of every error the app reports to a user."""

    retryable: bool = False

    def __init__(self, user_message: str, details: str = "", *, retryable: bool | None = None) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.details = details
        if retryable is not None:
            self.retryable = retryable

    def __str__(self) -> str:
        return self.user_message


# --- input -------------------------------------------------------------------------------------------------


class InvalidInput(ConsentDesktopError):
    """Something typed or pasted by the user is not acceptable; nothing was sent anywhere."""

    def __init__(self, field: str, user_message: str) -> None:
        super().__init__(user_message, f"invalid input in field {field!r}")
        self.field = field


class InvalidNhsNumber(InvalidInput):
    def __init__(self, user_message: str) -> None:
        super().__init__("nhs_number", user_message)


class ConfigError(ConsentDesktopError):
    """A configuration file or value is unusable. Names the file and the key so IT can fix it."""

    def __init__(self, source: str, key: str | None, problem: str) -> None:
        where = f"{source}, setting {key!r}" if key else source
        super().__init__(
            f"The app's settings are not valid ({where}): {problem}. Ask your IT team to correct them.",
            f"config error in {where}: {problem}",
        )
        self.source = source
        self.key = key
        self.problem = problem


# --- Spine ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpineCode:
    """One coded reason from Spine (a detected issue, acknowledgement detail or SOAP fault error)."""

    code: str
    display: str
    qualifier: str = "ER"  # ER error, WG warning
    system: str = ""


class SpineError(ConsentDesktopError):
    """Spine could not be used for this request.

    ``request_sent`` is False only when the request certainly never left this computer (no connection, TLS
    refused); a change whose request may have been sent has an unknown outcome until Spine is read again.
    """

    request_sent: bool = True


class SpineUnavailable(SpineError):
    """Spine (or the network to it) did not accept the request; trying again later may work."""

    retryable = True


class SpineTimeout(SpineUnavailable):
    """Spine did not answer in time."""


class TlsFailure(SpineError):
    """The secure connection to Spine could not be set up (certificates, trust, host name)."""


class SpineRejected(SpineError):
    """Spine answered and refused the request (HL7 AE/AR acknowledgement or a SOAP fault)."""

    def __init__(self, user_message: str, codes: Sequence[SpineCode], *, retryable: bool = False) -> None:
        detail = "; ".join(f"{c.code} {c.display}".strip() for c in codes) or "no reason given"
        super().__init__(user_message, f"Spine refused the request: {detail}", retryable=retryable)
        self.codes = tuple(codes)

    @property
    def code_values(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.codes)


class PatientNotFound(SpineRejected):
    """The NHS number is not known to Spine (400 / 35160 on ACS, 1 / RT003 on PDS)."""


class UnexpectedResponse(SpineError):
    """Spine's answer could not be understood: malformed, empty, an HTML page, hostile or for another request."""

    retryable = True


class SaveUnconfirmed(SpineError):
    """A consent change was sent but whether Spine stored it could not be confirmed."""


# --- session and authorisation -------------------------------------------------------------------------------


class SessionNotActive(ConsentDesktopError):
    """No Spine request may be sent: nobody is signed in, or the session is locked."""

    def __init__(self, user_message: str = "You are not signed in, or the session is locked.") -> None:
        super().__init__(user_message, "request refused: session not active")


class NotAuthorised(ConsentDesktopError):
    """The selected role lacks the national RBAC activity this action needs."""

    def __init__(self, user_message: str, missing_activities: Sequence[str]) -> None:
        super().__init__(user_message, f"role lacks activity {', '.join(missing_activities)}")
        self.missing_activities = tuple(missing_activities)


class AuditUnavailable(ConsentDesktopError):
    """The workstation's audit log cannot be written (disk full, no permission, locked by another program)."""

    def __init__(self, details: str) -> None:
        super().__init__(
            "This computer's audit log cannot be written, so the app cannot record what you do. Tell your IT team.",
            details,
            retryable=True,
        )


class AuditAltered(ConsentDesktopError):
    """The local audit's seals do not match its entries: it was edited outside the app, or its key is missing."""

    def __init__(self, since: str, details: str) -> None:
        super().__init__(
            f"The local record of changes on this computer has been altered since {since or 'it was started'}. "
            "Tell your IT team. What Spine holds is not affected.",
            details,
        )


class ChangeBlocked(ConsentDesktopError):
    """A consent change is not allowed for this patient (for example, the patient has died)."""


# --- smartcard and sign-in -----------------------------------------------------------------------------------


class CardError(ConsentDesktopError):
    """A problem with the smartcard, its reader or its middleware."""


class PinIncorrect(CardError):
    def __init__(self, *, final_try: bool) -> None:
        message = "The passcode was not correct."
        if final_try:
            message += " One attempt left before your card is locked."
        super().__init__(message, "PKCS#11 login refused: PIN incorrect", retryable=True)
        self.final_try = final_try


class PinLocked(CardError):
    def __init__(self) -> None:
        super().__init__(
            "Your smartcard is locked after too many wrong passcodes. Unlock it with Care Identity Service "
            "self-service, or ask your Registration Authority.",
            "PKCS#11 token reports the user PIN locked; no login attempted",
        )


class PinFormatInvalid(CardError):
    def __init__(self) -> None:
        super().__init__(
            "The passcode is not the right length or contains characters a passcode cannot have.",
            "PIN rejected by the token before checking (length or characters); attempt not counted",
            retryable=True,
        )


class NoReader(CardError):
    def __init__(self, details: str = "no PC/SC reader") -> None:
        super().__init__(
            "No smartcard reader was found, or the smartcard service is not running. Check the reader is "
            "plugged in; if it is, ask your IT team.",
            details,
            retryable=True,
        )


class NoCard(CardError):
    def __init__(self, details: str = "no card in the reader") -> None:
        super().__init__("Insert your smartcard.", details, retryable=True)


class SeveralCards(CardError):
    def __init__(self, details: str = "more than one card present") -> None:
        super().__init__(
            "More than one smartcard is inserted. Remove every card except your own.", details, retryable=True
        )


class CardRemoved(CardError):
    def __init__(self, details: str = "card removed") -> None:
        super().__init__("Your smartcard was removed.", details, retryable=True)


class NotAnNhsCard(CardError):
    def __init__(self, details: str) -> None:
        super().__init__("This card is not an NHS smartcard.", details)


class CertificateInvalid(CardError):
    def __init__(self, user_message: str, details: str) -> None:
        super().__init__(user_message, details)


class MiddlewareError(CardError):
    def __init__(self, details: str) -> None:
        super().__init__(
            "The smartcard software on this computer is missing or not working. Ask your IT team.",
            details,
            retryable=True,
        )


class VirtualReaderRefused(CardError):
    def __init__(self, reader: str) -> None:
        super().__init__(
            "This smartcard reader is a virtual (test) reader and cannot be used outside training mode.",
            f"virtual reader refused: {reader}",
        )


class SignInFailed(ConsentDesktopError):
    """The identity service refused the card or could not be reached."""


class IdentityMismatch(ConsentDesktopError):
    def __init__(self) -> None:
        super().__init__(
            "This is a different smartcard from the one that signed in. The previous user has been signed out.",
            "card user id differs from the signed-in user",
        )
