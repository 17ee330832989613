"""Result objects: frozen dataclasses with ``to_dict()`` and a readable ``__str__``.

* :class:`Evaluation` - a joint distribution measured against a game
  (gaps, values, welfare, entropy, correlation); what ``spielplatz check`` prints.
* :class:`Solution` - an :class:`Evaluation` plus how it was obtained
  (solver, configuration, status, iterations, wall time) and its certificate.
* :class:`BatchSolution` - a solver's answers for a batch of games of one shape;
  ``batch[i]`` is game ``i``'s :class:`Solution`.
* :class:`Run` - the history of a learner's training over one or many seeds.


Every solver reports the same shape of answer (:mod:`spielplatz.results.solution`).
"""

from spielplatz.results.batch import BatchSolution, batch_measures
from spielplatz.results.run import Run
from spielplatz.results.serialize import jsonable, to_json
from spielplatz.results.solution import STATUSES, Evaluation, Solution, evaluate

__all__ = ["Evaluation", "Solution", "BatchSolution", "Run", "evaluate", "batch_measures",
           "STATUSES", "jsonable", "to_json"]
