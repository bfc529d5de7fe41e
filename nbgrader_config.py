"""nbgrader configuration of the course (read by `nbgrader ...` and the JupyterLab extensions).

Sources are ``solutions/<week>/``, released notebooks ``weeks/<week>/``; submissions, grades, feedback
and the gradebook live under ``course/`` (git-ignored; ``DELAB_COURSE_DIR`` moves it,
``DELAB_GRADEBOOK_URL`` points to another database such as PostgreSQL).
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

root = Path(__file__).resolve().parent
state = Path(os.environ.get("DELAB_COURSE_DIR") or root / "course").resolve()


def _step(name: str) -> str:
    return os.path.relpath(state / name, root)


c.CourseDirectory.root = str(root)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "weeks"
c.CourseDirectory.submitted_directory = _step("submitted")
c.CourseDirectory.autograded_directory = _step("autograded")
c.CourseDirectory.feedback_directory = _step("feedback")
c.CourseDirectory.db_url = os.environ.get("DELAB_GRADEBOOK_URL") or f"sqlite:///{state / 'gradebook.db'}"
c.CourseDirectory.directory_structure = os.path.join("{nbgrader_step}", "{student_id}", "{assignment_id}")
c.GenerateAssignment.create_assignment = True
