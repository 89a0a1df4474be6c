"""The desktop window: PySide6 widgets that show what the controller reports and ask it to act.

Nothing here touches the network, the card or a thread; every action goes through
:class:`~consent_desktop.controller.controller.Controller`.
"""
