"""Plain data: NHS number, patient, consent, identity and errors. No Qt, no I/O."""
