"""The sandbox's synthetic patients: what its PDS answers from and which NHS numbers its ACS knows.

Every person, street and town here is invented. NHS numbers are in the 999 test range (valid check digits, never
issued), except 943 476 5919, the example number NHS documentation itself uses (the README's example). Postcodes
have the real UK shape but the area ``QQ``, which no real postcode uses; GP practices are the two invented
practices of the sandbox's test users (``sandbox/users.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

RIVERSIDE = "A81001"
HILLSIDE = "B82002"


@dataclass(frozen=True)
class SyntheticPatient:
    nhs_number: str
    title: str | None
    given: tuple[str, ...]
    family: str
    gender: str  # PDS Sex_code: 0 not known, 1 male, 2 female, 9 not specified
    born: date
    address: tuple[str, ...]  # street lines; empty: PDS holds no address
    postcode: str | None
    gp: str | None  # ODS code of the registered practice
    died: date | None = None
    restricted: bool = False  # S-flag: PDS never discloses address, contact details or GP


def _p(  # noqa: PLR0917 - one table row per patient reads best positionally
    nhs: str,
    title: str | None,
    given: str,
    family: str,
    gender: str,
    born: str,
    address: tuple[str, ...],
    postcode: str | None,
    gp: str | None = RIVERSIDE,
    *,
    died: str | None = None,
    restricted: bool = False,
) -> SyntheticPatient:
    return SyntheticPatient(
        nhs,
        title,
        tuple(given.split()),
        family,
        gender,
        date.fromisoformat(born),
        address,
        postcode,
        gp,
        date.fromisoformat(died) if died else None,
        restricted,
    )


FERN, EBB = "Fernhallow", "Ebbingford"  # invented towns

# fmt: off
PATIENTS: tuple[SyntheticPatient, ...] = (
    _p("9434765919", "Mrs", "Winifred", "Amberlock", "2", "1945-07-14", ("3 Tallowfield Rise", FERN), "QQ1 1AA"),
    _p("9990000018", "Mr", "Desmond", "Pellingworth", "1", "1962-03-09", ("27 Quillstone Lane", FERN), "QQ1 2BD"),
    _p("9990000026", "Ms", "Harriet", "Fennimore-Quayle", "2", "1979-10-04",
       ("Flat 4", "Marrowgate Court", EBB), "QQ2 3EF"),
    _p("9990000034", "Mr", "Rhodri", "Penhallow-Tuck", "1", "1955-12-23", ("8 Sallowmere Road", EBB), "QQ2 4GH",
       HILLSIDE),
    _p("9990000042", "Miss", "Niamh", "O'Trevanny", "2", "1993-06-17", ("112 Cindergate Street", FERN), "QQ1 5JL"),
    _p("9990000069", "Mr", "Declan", "D'Auberville", "1", "1971-01-30", ("2 Wyrmwood Close", EBB), "QQ2 6NP",
       HILLSIDE),
    _p("9990000077", "Ms", "Chloé", "Durnovaria", "2", "1984-08-11", ("19 Peverquill Yard", FERN), "QQ1 7QR"),
    _p("9990000085", "Mr", "Søren", "Haldvikström", "1", "1968-04-02", ("5 Brindlecombe Walk", EBB), "QQ2 8ST"),
    _p("9990000093", "Mrs", "Siân", "ap Gwyddelan", "2", "1950-09-19", ("Ty Hebog", "Llwynquill Lane", EBB),
       "QQ2 9UW", HILLSIDE),
    # The current record of a merged pair; 999 000 0107 was its number before the merge.
    _p("9990000115", "Mrs", "Rosalind", "Tenterwick", "2", "1958-02-14", ("41 Hobbleford Lane", FERN), "QQ1 9UW"),
    # Same name and date of birth, different towns: a trace needs the postcode to tell them apart.
    _p("9990000131", "Mr", "Ellis", "Varnhollow", "1", "1988-05-21", ("6 Gorsequist Terrace", FERN), "QQ3 1XY"),
    _p("9990000158", "Mr", "Ellis", "Varnhollow", "1", "1988-05-21", ("90 Lanternwick Road", EBB), "QQ5 2AB",
       HILLSIDE),
    # Twins: a trace without a given name matches both.
    _p("9990000166", "Miss", "Marnie", "Hollowquay", "2", "2019-09-30", ("17 Ferrowdale Gardens", FERN), "QQ1 3DE"),
    _p("9990000174", "Miss", "Bryony", "Hollowquay", "2", "2019-09-30", ("17 Ferrowdale Gardens", FERN), "QQ1 3DE"),
    # Restricted: PDS holds the location but must never disclose it.
    _p("9990000182", "Ms", "Imogen", "Thistlequine", "2", "1990-12-01", ("7 Nettlequarry Row", EBB), "QQ2 5HJ",
       HILLSIDE, restricted=True),
    _p("9990000190", "Mr", "Albert", "Quenningvale", "1", "1931-11-02", ("Rose Cottage", "Pellowmarsh Lane", EBB),
       "QQ2 7KL", died="2024-03-03"),
    _p("9990000204", "Mr", "Leopold", "Ashgrovemere", "1", "1960-02-29", ("1 Leapwell Court", FERN), "QQ1 4MN"),
    _p("9990000212", "Mr", "Caspian", "Wrenfallow", "1", "1999-07-07", (), None),  # no fixed abode
    _p("9990000220", "Mx", "Robin", "Kestermere", "9", "2001-03-15", ("22 Skerrywind Way", FERN), "QQ1 6PQ"),
    _p("9990000239", None, "Sam", "Lindqvarn", "0", "2012-11-20", ("9 Harrowquist Mews", EBB), "QQ2 2RS",
       HILLSIDE),
    _p("9990000247", "Dr", "Ophelia", "Grantchestle", "2", "1966-05-05", ("14 Corvenny Place", FERN), "QQ1 8TU"),
    _p("9990000255", "Rev", "Ambrose", "Pilkingford", "1", "1947-08-30", ("The Vicarage", "Mossbrockle Hill", EBB),
       "QQ2 1WX", HILLSIDE),
    _p("9990000263", "Prof", "Hyacinth", "Morrowdene", "2", "1952-01-09", ("3 Gallowmere Steps", FERN), "QQ3 4YZ"),
    _p("9990000271", "Master", "Finnian", "Cloudesbury", "1", "2015-06-23", ("51 Tumblewick Row", EBB), "QQ2 3AB"),
    _p("9990000298", "Mrs", "Łucja", "Brzęczkowiańska", "2", "1975-10-28", ("68 Wickerbeck Road", FERN), "QQ1 2DE"),
    _p("9990000301", "Mr", "Jean-Baptiste", "Févrelle", "1", "1983-02-17", ("4 Saltmarrow Lane", EBB), "QQ2 4FG",
       HILLSIDE),
    _p("9990000328", "Ms", "Mary-Kate", "O'Shevlin-Bracke", "2", "1997-04-08", ("30 Dunnockwhist Drive", FERN),
       "QQ1 5HJ"),
    _p("9990000336", "Mr", "Gideon", "Marlowstead", "1", "1940-10-10", ("2 Orchardquill Holme", EBB), "QQ2 6LN", None),
    _p("9990000344", "Mrs", "Peregrina", "Foxhallowe", "2", "1936-06-06", ("Brackenfold House", FERN), "QQ1 7PR"),
    _p("9990000352", "Mr", "Thaddeus Oswin", "Blakemire", "1", "1978-09-09", ("77 Kittiwarren Parade", EBB),
       "QQ2 8SU", HILLSIDE),
    _p("9990000360", "Miss", "Elowen", "Tregaskellow", "2", "2008-12-31", ("6 Kellywyn Vean", FERN), "QQ1 9WY"),
    _p("9990000379", "Mr", "Ignatius", "Vellacombery", "1", "1929-01-01", ("Flat 2", "Lowquarrel Court", EBB),
       "QQ2 1AD"),
    _p("9990000387", "Ms", "Renée", "Saint-Évremondet", "2", "1989-03-03", ("12 Chantrywisp Gardens", FERN),
       "QQ3 2EF"),
    _p("9990000395", "Mr", "Bartholomew", "Quillfeather", "1", "1972-12-12", ("85 Pennywortle Road", EBB), "QQ2 5GH",
       HILLSIDE),
)
# fmt: on

BY_NUMBER: dict[str, SyntheticPatient] = {p.nhs_number: p for p in PATIENTS}
SUPERSEDED: dict[str, str] = {"9990000107": "9990000115"}  # old number -> the record it was merged into
INVALIDATED = frozenset({"9990000123"})  # valid check digit, but PDS has invalidated the record

# Named examples, for tests, training notes and the CLI.
README_EXAMPLE = "9434765919"
RESTRICTED_EXAMPLE = "9990000182"
DECEASED_EXAMPLE = "9990000190"
SUPERSEDED_OLD, SUPERSEDED_NEW = next(iter(SUPERSEDED.items()))
INVALIDATED_EXAMPLE = next(iter(INVALIDATED))
UNKNOWN_EXAMPLE = "9990000050"  # valid check digit, but no such patient: ACS answers 400 / 35160, PDS 1 / RT003

# NHS number -> (function, permission) assertions ACS holds at the sandbox's first start.
INITIAL_CONSENT: dict[str, tuple[tuple[str, str], ...]] = {
    "9990000018": (("View", "No"), ("Store", "No")),  # opted out
    "9990000026": (("View", "Yes"),),  # legacy "Yes"
    "9990000034": (("Store", "No"),),  # View and Store recorded differently
}

KNOWN = frozenset(BY_NUMBER)


def current(nhs_number: str) -> SyntheticPatient | None:
    """The live record under this exact number (not a superseded or invalidated one)."""
    return BY_NUMBER.get(nhs_number)


def acs_knows(nhs_number: str) -> bool:
    """Whether ACS accepts requests about this number: current records only, as Spine keys consent on them."""
    return nhs_number in BY_NUMBER
