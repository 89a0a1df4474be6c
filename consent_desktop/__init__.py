"""consent-desktop: view and change a patient's Summary Care Record consent on the Spine ACS."""

__version__ = "0.1.0"
