"""Shared by the collection-task tests: the users a task involves (built by conftest's ``people``)."""

from __future__ import annotations

from dataclasses import dataclass

from hand_data import HandCounty

from app.models import User

PASSWORD = "password-123"


@dataclass
class TaskPeople:
    hand: HandCounty
    cadre_2: User
    cadre_3: User
    town_1: User
    town_2: User
    town_1_mca: User
    nhc: User
