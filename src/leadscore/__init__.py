"""leadscore: lead scoring as software a team owns.

The public Python API lives in :mod:`leadscore.project` and is re-exported here::

    import leadscore
    project = leadscore.Project.open("my-project")
    project.import_contacts("contacts.csv")
    project.score()
    print(project.explain("c-42").render_text())
"""

from leadscore.diagnostics import Diagnostic, LeadscoreError

__version__ = "0.1.0"

__all__ = ["Diagnostic", "LeadscoreError", "__version__"]


def __getattr__(name: str):  # lazy, so `import leadscore` stays cheap for the CLI
    if name in {"Project", "load_model", "score_contacts", "explain_contact", "open_store"}:
        from leadscore import project

        return getattr(project, name)
    raise AttributeError(name)
