"""Companies (accounts): which company a contact belongs to (`association`), the company
properties and their standard catalog (`catalog`), and the companies' own scores — evaluated
by `evaluation.company` and compiled to SQL by `sql.company` from the model's `companies:`
section (`model.company`)."""
