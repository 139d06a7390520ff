"""The end of `make demo`: users of the web app for the demo project, one of each role, and
what to type to see it — the one command that serves the demo data, its address and the
logins. The README shows the same lines (tests/test_readme.py keeps them in step).

    python scripts/demo_web.py DEMO_DIR

The salesperson is one of the synthetic data's sales reps, so with `[web] sales_leads =
"own"` they would see the leads they own."""

from __future__ import annotations

import os
import sys

# (role, e-mail, password): a demo's logins, printed for anyone to read — never for real data
USERS = (
    ("admin", "admin@example.com", "demo-admin-pass"),
    ("marketing", "marketing@example.com", "demo-marketing-pass"),
    ("sales", "jordan.lee@example.com", "demo-sales-pass"),
)
URL = "http://127.0.0.1:8000/"


def announcement(demo_dir: str) -> str:
    """What `make demo` prints last (run from the repository's folder)."""
    back = os.path.relpath(".", demo_dir)
    command = f"cd {demo_dir} && {back}/.venv/bin/leadscore serve"
    width = max(len(email) for _, email, _ in USERS)
    lines = ["--- the web app on the demo data: run this one command, then open the address "
             "and log in ---",
             f"  {command}",
             f"  {URL}"]
    lines += [f"  {role:<10} {email:<{width}}  {password}" for role, email, password in USERS]
    return "\n".join(lines)


def main(demo_dir: str) -> None:
    from leadscore.project import Project

    project = Project.open(demo_dir)
    try:
        known = {user.email for user in project.users()}
        for role, email, password in USERS:
            if email not in known:
                project.create_user(email, role, password)
    finally:
        project.close()
    print(announcement(demo_dir))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "build/demo")
