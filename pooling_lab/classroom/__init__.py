"""The classroom tools: the exercises' checkers, grading, the student copy and the slides.

``check`` (the checkers the notebooks call), ``gradcheck`` (finite differences), ``grade``
(marks for a class), ``release`` (the student copy) and ``slides`` (offline decks). They
build on the lesson core (:mod:`pooling_lab`) and are never imported by it.
"""
