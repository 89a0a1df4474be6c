"""Spine HL7 V3 over SOAP: envelopes, message builders and parsers, transport, ACS and PDS clients. No Qt."""
