"""Fetches each URL given on the command line with requests and its default verification
(certifi's bundle, unless REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE names another file), printing
one line per URL: "<url> ok" or "<url> fail: <reason>"."""
import sys

import requests

for url in sys.argv[1:]:
    try:
        requests.get(url, timeout=10).raise_for_status()
        print(f"{url} ok")
    except Exception as e:  # every failure is a result, not a crash
        print(f"{url} fail: {e!r}".replace("\n", " "))
