import copy
import pickle

import pytest

from ws_stack.credentials import REDACTED, Credentials
from ws_stack.exceptions import ConfigError

KEY, SECRET = "mx0-key-abc", "secret-xyz-123"


def test_credentials_are_redacted_in_every_text_form():
    credentials = Credentials(KEY, SECRET)
    for text in (
        repr(credentials),
        str(credentials),
        f"{credentials}",
        f"{credentials:>70}",
        repr([credentials]),
    ):
        assert KEY not in text and SECRET not in text and REDACTED in text
    assert (credentials.api_key, credentials.api_secret) == (KEY, SECRET)
    assert credentials.redact(f"{KEY}:{SECRET}") == f"{REDACTED}:{REDACTED}"


def test_credentials_compare_copy_and_refuse_pickling():
    credentials = Credentials(KEY, SECRET)
    assert credentials == Credentials(KEY, SECRET) != Credentials(KEY, "other")
    assert credentials != "not credentials"
    assert hash(credentials) == hash(Credentials(KEY, SECRET))
    assert copy.copy(credentials) is credentials and copy.deepcopy(credentials) is credentials
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(credentials)


@pytest.mark.parametrize(("key", "secret"), [("", SECRET), (KEY, "   "), (KEY, None)])
def test_invalid_credentials_are_config_errors_that_echo_nothing(key, secret):
    with pytest.raises(ConfigError) as info:
        Credentials(key, secret)  # type: ignore[arg-type]
    assert SECRET not in str(info.value) and (not key or key not in str(info.value))
