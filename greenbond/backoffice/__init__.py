"""The issuer back office (issue 13): a separate, private app for the issuer and the agent.

It shows what the public investor app must never show (the bond register with the holders'
personal details) and does what only the issuer's staff may do (register holders with sealed
details), so everything here sits behind a login:

* `auth`     accounts (argon2id hashes), failed-login lockout, expiring sessions;
* `audit`    the append-only audit log of logins, openings of personal details and exports;
* `views`    what the pages show and do, each taking a logged-in session;
* `accounts` the `accounts` and `serve` commands (`python -m greenbond.backoffice`).

The Streamlit scripts are in backoffice/ at the repository root. The public app (app/) imports
nothing from here.
"""
