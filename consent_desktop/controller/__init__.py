"""Use cases that the GUI and the CLI both drive; slow work runs off the GUI thread and reports by Qt signals."""
