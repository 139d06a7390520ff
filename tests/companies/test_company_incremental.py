"""An incremental company run (`score` after an incremental contact run scores only the
companies whose contacts changed, `scoring.company_scope`) leaves exactly what a full run
would: after every random change — new events, contacts moving company by id or by e-mail
domain, new contacts, erasures, company property changes, ledger entries, contacts processed
one by one — a full company run right after the incremental one finds nothing to change (no
score value, label or count, no membership row); on SQLite and PostgreSQL. And where nothing
any company reads changed, the incremental run scores no company at all."""

from __future__ import annotations

import json
import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from leadscore import Project
from leadscore.scoring.companies import score_companies
from leadscore.storage.companies import company_members, company_scores

HERE = Path(__file__).resolve().parent
DOMAINS = ["acme.com", "globex.io", "initech.com", "hooli.xyz", "umbrella.org", "stark.net"]
OTHER = ["wayne.biz", "tyrell.ai"]  # no company has them: a company of their own
FREE = ["gmail.com", "mail.example"]
INDUSTRIES = ["software", "retail", "saas", "energy"]
ROLES = ["decision_maker", "champion", "influencer", "user", ""]


def _stored(project: Project) -> tuple[dict[Any, Any], dict[str, str]]:
    with project.store.read() as connection:
        t = company_scores.c
        scores = {(r.company_id, r.score): (r.value, r.label, r.contacts) for r in
                  connection.execute(select(t.company_id, t.score, t.value, t.label,
                                            t.contacts).where(t.model == "acct"))}
        m = company_members.c
        members = dict(connection.execute(select(m.contact_id, m.company_id)
                                          .where(m.model == "acct")).all())
    return scores, members


class World:
    def __init__(self, root: Path, rng: random.Random) -> None:
        self.root, self.rng = root, rng
        self.contacts: list[str] = []
        self.events = 0
        self.files = 0
        self.now = datetime.now(UTC)

    def file(self, text: str, suffix: str) -> Path:
        self.files += 1
        path = self.root / f"in{self.files}{suffix}"
        path.write_text(text)
        return path

    def companies(self, project: Project, ids: list[str]) -> None:
        rows = ["company_id,name,domain,industry,employees,tier,updated_at"]
        for i in ids:
            domain = DOMAINS[int(i[1:]) % len(DOMAINS)]
            rows.append(f"{i},{i.upper()},{domain},{self.rng.choice(INDUSTRIES)},"
                        f"{self.rng.choice([20, 300, 4000])},"
                        f"{self.rng.choice(['strategic', 'smb', 'enterprise'])},2026-01-01")
        project.import_companies(self.file("\n".join(rows) + "\n", ".csv"))

    def contact_rows(self, ids: list[str]) -> str:
        rows = ["contact_id,email,company_id,seniority,industry,buying_role"]
        for cid in ids:
            domain = self.rng.choice(DOMAINS + OTHER + FREE)
            company = self.rng.choice(["", "", "", "k0", "k1", "k2", "k3"])
            rows.append(f"{cid},{cid}@{domain},{company},"
                        f"{self.rng.choice(['executive', 'manager', ''])},"
                        f"{self.rng.choice(INDUSTRIES)},{self.rng.choice(ROLES)}")
        return "\n".join(rows) + "\n"

    def new_contacts(self, project: Project, n: int) -> None:
        ids = [f"c{len(self.contacts) + i}" for i in range(n)]
        self.contacts += ids
        project.import_contacts(self.file(self.contact_rows(ids), ".csv"))

    def change_contacts(self, project: Project, n: int) -> None:
        ids = self.rng.sample(self.contacts, min(n, len(self.contacts)))
        project.import_contacts(self.file(self.contact_rows(ids), ".csv"))

    def new_events(self, project: Project, n: int) -> None:
        lines = []
        for _ in range(n):
            self.events += 1
            kind, attributes = self.rng.choice([
                ("form_submission", {"form_id": "demo"}),
                ("page_view", {"url": "https://x.com/pricing"}),
                ("page_view", {"url": "https://x.com/blog"})])
            when = self.now - timedelta(hours=self.rng.randint(1, 200))
            lines.append(json.dumps({
                "event_id": f"e{self.events}", "contact_id": self.rng.choice(self.contacts),
                "type": kind, "occurred_at": when.isoformat(), "attributes": attributes}))
        project.import_events(self.file("\n".join(lines) + "\n", ".jsonl"))


CHANGES = ["events", "events", "contacts", "new", "erase", "companies", "ledger", "process"]


@pytest.mark.parametrize("seed", [1, 2])
def test_an_incremental_company_run_leaves_what_a_full_run_would(tmp_path, store_url: str,
                                                                 seed: int) -> None:
    rng = random.Random(seed)
    root = tmp_path / "p"
    (root / "models").mkdir(parents=True)
    shutil.copy(HERE / "model.yaml", root / "models" / "model.yaml")
    url = store_url if not store_url.startswith("sqlite") else "sqlite:///.leadscore/store.db"
    (root / "leadscore.toml").write_text(
        f'[store]\nurl = "{url}"\n\n[model]\npath = "models/model.yaml"\n')
    world = World(root, rng)
    with Project.open(root) as project:
        world.companies(project, [f"k{i}" for i in range(8)])
        world.new_contacts(project, 40)
        world.new_events(project, 120)
        first = project.score()
        assert first.companies.full and first.companies.companies > 8

        unchanged = project.score()  # nothing changed since: no company is scored again
        assert not unchanged.companies.full and unchanged.companies.companies == 0

        kinds = [*CHANGES, *rng.choices(CHANGES, k=6)]
        rng.shuffle(kinds)
        incremental = 0
        for kind in kinds:
            if kind == "events":
                world.new_events(project, rng.randint(1, 6))
            elif kind == "contacts":
                world.change_contacts(project, rng.randint(1, 4))
            elif kind == "new":
                world.new_contacts(project, rng.randint(1, 3))
            elif kind == "erase":
                gone = rng.choice(world.contacts)
                world.contacts.remove(gone)
                project.erase_contact(gone)
            elif kind == "companies":
                world.companies(project, rng.sample([f"k{i}" for i in range(8)], 2))
            elif kind == "ledger":
                project.add_ledger_entry(rng.choice(world.contacts), "engagement",
                                         change_by=rng.choice([25, -15]), reason="manual",
                                         note="test")
            else:  # contacts rescored one by one, outside `score`
                world.new_events(project, 3)
                project.process(deliver=False, bulk=False)
            run = project.score()
            if not run.companies.full:
                incremental += 1
            stored = _stored(project)
            full = score_companies(project.store, project.model)
            assert full.changed == 0 and full.changed_companies == [], (kind, full)
            assert _stored(project) == stored, kind
        assert incremental >= 5  # most changes are scored incrementally
