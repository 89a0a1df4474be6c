"""A faithful local stand-in for Spine (ACS, PDS) and the CIS sign-in service, over real HTTPS with client
certificates. Nothing in the app imports this package except the training-mode launcher and the tests."""
