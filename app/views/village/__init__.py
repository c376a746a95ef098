"""The village cadre's web entry: households, persons, tags and periodic values of one area.

Pages are under ``/village/``: an area's lists (``/village/<code>/households``, ``/persons``,
``/houses``, ``/organisations``, ``/observations``; the code is a village or a grid), and the records
(``/village/household/<id>``, ``/village/house/<id>``, ``/village/organisation/<id>``,
``/village/person/<id>`` with their edit / end / move / tag pages). Township staff and grid workers use
the same pages within their scope; the services check it. Every form is generated from the model
(``views/forms.py``); a save sends the ``row_version`` it was loaded with, so a stale form is refused
with what the other editor changed, and the user's typed values stay in the form.
"""

from app.views.village import (  # noqa: F401  (registers the routes)
    areas,
    household_close,
    households,
    houses,
    organisations,
    persons,
    tags,
)
from app.views.village.common import bp

__all__ = ["bp"]
