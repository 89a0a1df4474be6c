"""Smartcard (PKCS#11, PC/SC), sign-in with the identity service, and the session every Spine call consults."""
