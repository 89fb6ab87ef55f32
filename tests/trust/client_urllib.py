"""Fetches each URL given on the command line with urllib and ssl.create_default_context()
(OpenSSL's default paths: SSL_CERT_FILE/SSL_CERT_DIR or the compiled-in ones), printing one
line per URL: "<url> ok" or "<url> fail: <reason>"."""
import ssl
import sys
import urllib.request

context = ssl.create_default_context()
for url in sys.argv[1:]:
    try:
        with urllib.request.urlopen(url, context=context, timeout=10) as resp:
            resp.read()
        print(f"{url} ok")
    except Exception as e:  # every failure is a result, not a crash
        print(f"{url} fail: {e!r}".replace("\n", " "))
