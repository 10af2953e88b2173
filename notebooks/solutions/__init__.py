"""Reference solutions of the notebooks' "Try it" exercises: one module per notebook.

The student notebooks hold stubs only (each raises ``NotImplementedError``). Here, module
``nbNN`` holds notebook NN's solutions, one function per exercise with the stub's name, and
``EXERCISES``, which maps each function's name to the checker the notebook calls::

    from notebooks.solutions import nb01
    for name, checker in nb01.EXERCISES.items():
        checker(getattr(nb01, name))        # prints PASSED ...

``tests/test_solutions.py`` runs every solution through its checker and makes sure that no
solution's body appears in any notebook. Try the exercise before you read its solution.
"""
