"""The web console (``skiptrace serve``): search, borrowers, rings, plans and the audit trail
in a browser, on either store, masked by default. See docs/console.md.

``create_app(store, users)`` builds the Starlette application; :mod:`~skiptrace.console.users`
keeps the users file; :mod:`~skiptrace.console.views` assembles each page's data from the
library.
"""
from skiptrace.console.app import create_app
from skiptrace.console.users import ROLES, Users, add_user, load_users

__all__ = ["ROLES", "Users", "add_user", "create_app", "load_users"]
