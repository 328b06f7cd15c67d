"""Norwegian identity numbers: fødselsnummer and D-nummer, checked with python-stdnum."""

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _
from stdnum.exceptions import InvalidChecksum
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.no import fodselsnummer


class IdentityNumberError(ValueError):
    """Not a valid identity number; the message is translated and never repeats the number."""


@dataclass(frozen=True)
class IdentityNumber:
    number: str  # eleven digits, no spaces
    is_d_number: bool
    birth_date: dt.date

    def age_on(self, day: dt.date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


def identity_number_parse(value: str, *, today: dt.date | None = None) -> IdentityNumber:
    """Check a fødselsnummer or D-nummer (spaces allowed) and read its birth date.

    Raises IdentityNumberError with a message that says what is wrong, not the number.
    """
    compact = fodselsnummer.compact(value or "")
    if not compact:
        raise IdentityNumberError(_("Enter the identity number (11 digits)."))
    if not compact.isdigit() or len(compact) != 11:
        raise IdentityNumberError(_("An identity number has 11 digits."))
    try:
        fodselsnummer.validate(compact)
        birth_date = fodselsnummer.get_birth_date(compact)
    except InvalidChecksum as error:
        raise IdentityNumberError(
            _("This is not a valid fødselsnummer or D-nummer: check the digits.")
        ) from error
    except StdnumError as error:  # a date that does not exist, or one still to come
        raise IdentityNumberError(
            _("The birth date in this identity number is not valid or lies in the future.")
        ) from error
    if birth_date > (today or dt.date.today()):  # noqa: DTZ011 - a date, compared as a date
        raise IdentityNumberError(
            _("The birth date in this identity number is not valid or lies in the future.")
        )
    return IdentityNumber(number=compact, is_d_number=int(compact[0]) >= 4, birth_date=birth_date)
