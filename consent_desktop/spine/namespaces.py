"""Namespaces and OIDs used on the Spine wire."""

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"  # the 2004/08 draft Spine uses, not W3C 2005
HL7 = "urn:hl7-org:v3"
CRS = "http://national.carerecords.nhs.uk/schema/crs/"
NASP = "http://national.carerecords.nhs.uk/schema/"

NSMAP_REQUEST = {"SOAP-ENV": SOAP, "wsa": WSA, None: HL7, "crs": CRS}

OID_INTERACTION = "2.16.840.1.113883.2.1.3.2.4.12"
OID_ASID = "1.2.826.0.1285.0.2.0.107"
OID_ROLE_PROFILE = "1.2.826.0.1285.0.2.0.67"
OID_SDS_USER = "1.2.826.0.1285.0.2.0.65"
OID_JOB_ROLE = "1.2.826.0.1285.0.2.1.104"
OID_NHS_NUMBER = "2.16.840.1.113883.2.1.4.1"
OID_ODS = "2.16.840.1.113883.2.1.4.3"
OID_DETECTED_ISSUE = "2.16.840.1.113883.2.1.3.2.4.17.33"  # Spine detected-issue codes (ACS, PSIS)
OID_PDS_RESPONSE = "2.16.840.1.113883.2.1.3.2.4.17.42"  # PDSResponseCodes

TMS_CONTEXT = "urn:nhs:names:error:tms"


def q(ns: str, local: str) -> str:
    """Clark notation ``{ns}local`` for lxml."""
    return f"{{{ns}}}{local}"
