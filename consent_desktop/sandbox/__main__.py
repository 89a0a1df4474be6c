import sys

from consent_desktop.sandbox.cli import main

sys.exit(main())
