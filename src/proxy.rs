//! Egress proxy settings (`--proxy`, `--http-proxy`, `--https-proxy`, `--no-proxy`,
//! `--append-no-proxy`, `--proxy-secret`, `--cluster-domain`): checks them and says which
//! variables every container the CA reaches gets. The YAML is not this module's business:
//! [`crate::inject`] sets these variables with the same kinds, skips and conflict rules as
//! the CA's.

use crate::config::ConfigErrors;

/// Where the proxy listens, as the user wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The URL, as given.
    pub url: String,
    /// Its host (an IPv6 address in brackets).
    pub host: String,
    /// Its port (the scheme's default when the URL names none).
    pub port: u16,
}

/// The proxy settings, resolved and checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proxy {
    /// The proxy for HTTP, when given as a URL.
    pub http: Option<Endpoint>,
    /// The proxy for HTTPS, when given as a URL.
    pub https: Option<Endpoint>,
    /// The Secret whose keys [`SECRET_HTTP_KEY`] and [`SECRET_HTTPS_KEY`] hold the URLs.
    pub secret: Option<String>,
    /// The exception list: the defaults, then the user's entries.
    pub no_proxy: Vec<String>,
    /// Extend a `NO_PROXY` the container sets instead of keeping it.
    pub append_no_proxy: bool,
}

/// Key of the HTTP proxy URL in the `--proxy-secret` Secret.
pub const SECRET_HTTP_KEY: &str = "HTTP_PROXY";
/// Key of the HTTPS proxy URL in the `--proxy-secret` Secret.
pub const SECRET_HTTPS_KEY: &str = "HTTPS_PROXY";

/// Java's proxy from the `--proxy-secret` Secret: (Java's system property, the variable
/// defined before `JAVA_TOOL_OPTIONS`, the Secret key it reads). Java reads no proxy URL, so the Secret may hold the host and the port apart;
/// `JAVA_TOOL_OPTIONS` refers to them as `$(VAR)`, which Kubernetes expands from variables
/// defined earlier in the same container's `env`.
///
/// The keys are optional (`secretKeyRef.optional`): a Secret without them still starts every
/// pod. A variable of a missing key is left undefined and its `$(VAR)` stays literal, always
/// inside the value of a `-D` option, so the JVM still starts: a missing port falls back to
/// the scheme's (Java reads a non-number as none); a missing host makes Java's requests
/// through the proxy fail with an unknown host that names the variable. The whole option
/// string in one key would not do: a literal `$(VAR)` on its own is an option the JVM
/// refuses, and no Java program of the pod would start.
pub const SECRET_JAVA_KEYS: [(&str, &str, &str); 4] = [
    (
        "http.proxyHost",
        "TRUST_INJECT_HTTP_PROXY_HOST",
        "HTTP_PROXY_HOST",
    ),
    (
        "http.proxyPort",
        "TRUST_INJECT_HTTP_PROXY_PORT",
        "HTTP_PROXY_PORT",
    ),
    (
        "https.proxyHost",
        "TRUST_INJECT_HTTPS_PROXY_HOST",
        "HTTPS_PROXY_HOST",
    ),
    (
        "https.proxyPort",
        "TRUST_INJECT_HTTPS_PROXY_PORT",
        "HTTPS_PROXY_PORT",
    ),
];

/// Whether `name` is one of the variables of [`SECRET_JAVA_KEYS`].
#[must_use]
pub fn is_java_secret_var(name: &str) -> bool {
    SECRET_JAVA_KEYS.iter().any(|(_, var, _)| *var == name)
}

/// A variable's `valueFrom.secretKeyRef`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretRef {
    /// The Secret.
    pub name: String,
    /// Its key.
    pub key: String,
    /// Whether the pod starts without the key (the variable is then left undefined).
    pub optional: bool,
}

/// How a variable is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Set it unless the container does.
    Set,
    /// Set it, or with `--append-no-proxy` add the missing entries to the container's list.
    List,
}

/// One variable the proxy settings want.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Var {
    /// Its name.
    pub name: String,
    /// Its value (empty when it comes from a Secret).
    pub value: String,
    /// The Secret key it comes from, if so.
    pub secret: Option<SecretRef>,
    /// How it is set.
    pub mode: Mode,
}

/// The options this module reads, by flag.
pub struct Raw<'a> {
    /// `--proxy`.
    pub proxy: Option<&'a str>,
    /// `--http-proxy`.
    pub http: Option<&'a str>,
    /// `--https-proxy`.
    pub https: Option<&'a str>,
    /// `--no-proxy`.
    pub no_proxy: Option<&'a str>,
    /// `--append-no-proxy`.
    pub append_no_proxy: bool,
    /// `--proxy-secret`.
    pub secret: Option<&'a str>,
    /// `--cluster-domain`.
    pub cluster_domain: &'a str,
}

/// Resolves the proxy options; `None` when no proxy is asked for. Problems go to `errs`,
/// each named by its flag.
pub fn resolve(raw: &Raw<'_>, errs: &mut ConfigErrors) -> Option<Proxy> {
    let (proxy, http, https) = (given(raw.proxy), given(raw.http), given(raw.https));
    let secret = given(raw.secret);
    let domain = raw.cluster_domain.trim().trim_end_matches('.');
    if !crate::config::is_dns_subdomain(domain) {
        errs.push(
            "--cluster-domain",
            format!("{domain:?} is not a DNS domain such as cluster.local"),
        );
    }
    let no_proxy = parse_no_proxy(given(raw.no_proxy), domain, errs);
    if proxy.is_none() && http.is_none() && https.is_none() && secret.is_none() {
        if raw.no_proxy.is_some_and(|v| !v.trim().is_empty()) || raw.append_no_proxy {
            errs.push(
                "--no-proxy/--append-no-proxy",
                "given without a proxy: add --proxy URL (or --http-proxy, --https-proxy, --proxy-secret)",
            );
        }
        return None;
    }
    if let Some(name) = secret {
        if proxy.is_some() || http.is_some() || https.is_some() {
            errs.push(
                "--proxy-secret",
                "give the proxy either as a URL (--proxy, --http-proxy, --https-proxy) or as a Secret, not both",
            );
        }
        if !crate::config::is_dns_subdomain(name) {
            errs.push(
                "--proxy-secret",
                format!(
                    "{name:?} is not a valid Secret name (lowercase letters, digits, '-' and '.')"
                ),
            );
        }
    }
    let endpoint = |flag: &str, v: Option<&str>, errs: &mut ConfigErrors| {
        let v = v?;
        match parse_url(v) {
            Ok(e) => Some(e),
            Err(why) => {
                errs.push(format!("--{flag}"), format!("{:?}: {why}", redact(v)));
                None
            }
        }
    };
    let both = endpoint(
        "proxy",
        proxy.filter(|_| http.is_none() || https.is_none()),
        errs,
    );
    let http = match http {
        Some(_) => endpoint("http-proxy", http, errs),
        None => both.clone(),
    };
    let https = match https {
        Some(_) => endpoint("https-proxy", https, errs),
        None => both,
    };
    Some(Proxy {
        http,
        https,
        secret: secret.map(str::to_owned),
        no_proxy,
        append_no_proxy: raw.append_no_proxy,
    })
}

/// `v` with any user name and password replaced by `***`, for messages: the credentials
/// must not reach a terminal or a log.
fn redact(v: &str) -> String {
    let Some((scheme, rest)) = v.split_once("://") else {
        return v.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => v.to_owned(),
    }
}

/// The stand-in source of a run that injects the proxy alone: it names nothing, and
/// [`crate::config::Options::inject_ca`] is false.
#[must_use]
pub fn no_source() -> crate::config::Source {
    crate::config::Source {
        kind: crate::config::SourceKind::ConfigMap,
        name: String::new(),
        key: crate::well_known::DEFAULT_KEY.to_owned(),
        complete: false,
    }
}

/// A value given and not blank.
fn given(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

/// Checks a proxy URL: `http://` or `https://`, a host, an optional numeric port, no
/// credentials, no path, query or fragment.
fn parse_url(v: &str) -> Result<Endpoint, String> {
    let url = url::Url::parse(v).map_err(|e| match e {
        url::ParseError::InvalidPort => "the port is not a number from 1 to 65535".to_owned(),
        url::ParseError::RelativeUrlWithoutBase => {
            "not a URL: write it as http://HOST:PORT".to_owned()
        }
        other => format!("not a valid URL ({other}); write it as http://HOST:PORT"),
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "the URL carries credentials, which would be written in plain text into every manifest; put the URLs in a Secret and give --proxy-secret NAME instead".to_owned(),
        );
    }
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "scheme {:?} is not supported: write it as http://HOST:PORT (or https://)",
            url.scheme()
        ));
    }
    let host = match url.host() {
        Some(url::Host::Ipv6(a)) => format!("[{a}]"),
        Some(h) => h.to_string(),
        None => return Err("no host: write it as http://HOST:PORT".to_owned()),
    };
    if host.is_empty() {
        return Err("no host: write it as http://HOST:PORT".to_owned());
    }
    if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
        return Err(
            "a proxy URL has no path, query or fragment: write it as http://HOST:PORT".to_owned(),
        );
    }
    if url.port() == Some(0) {
        return Err("the port is not a number from 1 to 65535".to_owned());
    }
    let port = url
        .port_or_known_default()
        .ok_or_else(|| "no port: write it as http://HOST:PORT".to_owned())?;
    Ok(Endpoint {
        url: v.to_owned(),
        host,
        port,
    })
}

/// The default exception list, then the user's entries (comma-separated, none empty).
fn parse_no_proxy(v: Option<&str>, domain: &str, errs: &mut ConfigErrors) -> Vec<String> {
    let mut out: Vec<String> = ["localhost", "127.0.0.1", "::1", ".svc"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    out.push(format!(".svc.{domain}"));
    let Some(v) = v else { return out };
    for (i, entry) in v.split(',').enumerate() {
        let entry = entry.trim();
        if entry.is_empty() {
            errs.push(
                "--no-proxy",
                format!(
                    "{v:?}: entry {} is empty; separate hosts with single commas",
                    i + 1
                ),
            );
            continue;
        }
        if entry
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "|\"'\\".contains(c))
        {
            errs.push(
                "--no-proxy",
                format!("{entry:?}: a host, domain (.example.com), IP address or CIDR has no spaces, quotes, backslashes or '|'"),
            );
            continue;
        }
        if !out.iter().any(|o| o == entry) {
            out.push(entry.to_owned());
        }
    }
    out
}

impl Proxy {
    /// The variables every container the CA reaches gets, in order.
    #[must_use]
    pub fn vars(&self) -> Vec<Var> {
        let mut out = Vec::new();
        let plain = |name: &str, value: &str, mode: Mode| Var {
            name: name.to_owned(),
            value: value.to_owned(),
            secret: None,
            mode,
        };
        for (names, endpoint, key) in [
            (["HTTP_PROXY", "http_proxy"], &self.http, SECRET_HTTP_KEY),
            (
                ["HTTPS_PROXY", "https_proxy"],
                &self.https,
                SECRET_HTTPS_KEY,
            ),
        ] {
            for name in names {
                if let Some(e) = endpoint {
                    out.push(plain(name, &e.url, Mode::Set));
                } else if let Some(s) = &self.secret {
                    out.push(Var {
                        name: name.to_owned(),
                        value: String::new(),
                        secret: Some(SecretRef {
                            name: s.clone(),
                            key: key.to_owned(),
                            optional: false,
                        }),
                        mode: Mode::Set,
                    });
                }
            }
        }
        if let Some(s) = &self.secret {
            for (_, var, key) in SECRET_JAVA_KEYS {
                out.push(Var {
                    name: var.to_owned(),
                    value: String::new(),
                    secret: Some(SecretRef {
                        name: s.clone(),
                        key: key.to_owned(),
                        optional: true,
                    }),
                    mode: Mode::Set,
                });
            }
        }
        let list = self.no_proxy.join(",");
        out.push(plain("NO_PROXY", &list, Mode::List));
        out.push(plain("no_proxy", &list, Mode::List));
        out.push(plain("NODE_USE_ENV_PROXY", "1", Mode::Set));
        out
    }

    /// The `JAVA_TOOL_OPTIONS` part: proxy hosts and ports, and the exceptions in Java's
    /// form. From a Secret, the hosts and ports are `$(VAR)` references to the variables
    /// of [`SECRET_JAVA_KEYS`], which must be defined before `JAVA_TOOL_OPTIONS`.
    #[must_use]
    pub fn java_options(&self) -> String {
        let mut parts = Vec::new();
        for (scheme, e) in [("http", &self.http), ("https", &self.https)] {
            if let Some(e) = e {
                parts.push(format!("-D{scheme}.proxyHost={}", e.host));
                parts.push(format!("-D{scheme}.proxyPort={}", e.port));
            }
        }
        if self.secret.is_some() {
            for (property, var, _) in SECRET_JAVA_KEYS {
                parts.push(format!("-D{property}=$({var})"));
            }
        }
        if parts.is_empty() {
            return String::new();
        }
        let hosts: Vec<String> = self.no_proxy.iter().filter_map(|h| java_host(h)).collect();
        if !hosts.is_empty() {
            parts.push(format!("-Dhttp.nonProxyHosts={}", hosts.join("|")));
        }
        parts.join(" ")
    }

    /// The `JAVA_TOOL_OPTIONS` part that refers to the variables of [`SECRET_JAVA_KEYS`]
    /// (empty without `--proxy-secret`): the whole [`Proxy::java_options`] then.
    #[must_use]
    pub fn java_secret_options(&self) -> String {
        if self.secret.is_some() {
            self.java_options()
        } else {
            String::new()
        }
    }

    /// The exceptions Java cannot express (CIDRs), which it will send through the proxy.
    #[must_use]
    pub fn java_dropped(&self) -> Vec<&str> {
        if self.http.is_none() && self.https.is_none() && self.secret.is_none() {
            return Vec::new();
        }
        self.no_proxy
            .iter()
            .filter(|h| java_host(h).is_none())
            .map(String::as_str)
            .collect()
    }
}

/// One `NO_PROXY` entry in Java's `http.nonProxyHosts` form: `.example.com` becomes
/// `*.example.com`, a bare domain also matches its subdomains (as in Go and curl), an IPv6
/// address goes in brackets, a port is dropped (Java matches hosts only); a CIDR has no
/// Java form.
fn java_host(entry: &str) -> Option<String> {
    if entry.contains('/') {
        return None;
    }
    if entry == "*" {
        return Some("*".to_owned());
    }
    if entry.parse::<std::net::Ipv6Addr>().is_ok() {
        return Some(format!("[{entry}]"));
    }
    let host = match entry.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.parse::<u16>().is_ok() => h,
        _ => entry,
    };
    if host.starts_with('[') || host.parse::<std::net::Ipv4Addr>().is_ok() {
        return Some(host.to_owned());
    }
    Some(match host.strip_prefix('.') {
        Some(d) => format!("*.{d}"),
        None if host.contains('.') => format!("{host}|*.{host}"),
        None => host.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(proxy: &str) -> Raw<'_> {
        Raw {
            proxy: Some(proxy),
            http: None,
            https: None,
            no_proxy: None,
            append_no_proxy: false,
            secret: None,
            cluster_domain: "cluster.local",
        }
    }

    #[test]
    fn java_form_of_the_exceptions() {
        let mut errs = ConfigErrors::default();
        let r = Raw {
            no_proxy: Some("corp.example,.internal,10.0.0.0/8,db:5432,fd00::1"),
            ..raw("http://proxy.corp:3128")
        };
        let p = resolve(&r, &mut errs).unwrap_or_else(|| panic!("{errs}"));
        assert!(errs.0.is_empty(), "{errs}");
        assert_eq!(
            p.java_options(),
            "-Dhttp.proxyHost=proxy.corp -Dhttp.proxyPort=3128 -Dhttps.proxyHost=proxy.corp -Dhttps.proxyPort=3128 \
             -Dhttp.nonProxyHosts=localhost|127.0.0.1|[::1]|*.svc|*.svc.cluster.local|corp.example|*.corp.example|*.internal|db|[fd00::1]"
        );
        assert_eq!(p.java_dropped(), ["10.0.0.0/8"]);
    }

    #[test]
    fn java_options_from_a_secret_refer_to_variables() {
        let mut errs = ConfigErrors::default();
        let r = Raw {
            proxy: None,
            secret: Some("corp-proxy"),
            no_proxy: Some("10.0.0.0/8,.corp.example"),
            ..raw("")
        };
        let p = resolve(&r, &mut errs).unwrap_or_else(|| panic!("{errs}"));
        assert!(errs.0.is_empty(), "{errs}");
        assert_eq!(
            p.java_options(),
            "-Dhttp.proxyHost=$(TRUST_INJECT_HTTP_PROXY_HOST) -Dhttp.proxyPort=$(TRUST_INJECT_HTTP_PROXY_PORT) \
             -Dhttps.proxyHost=$(TRUST_INJECT_HTTPS_PROXY_HOST) -Dhttps.proxyPort=$(TRUST_INJECT_HTTPS_PROXY_PORT) \
             -Dhttp.nonProxyHosts=localhost|127.0.0.1|[::1]|*.svc|*.svc.cluster.local|*.corp.example"
        );
        assert_eq!(p.java_dropped(), ["10.0.0.0/8"]);
        // Every variable referred to is defined, from an optional key, before it is used.
        let vars = p.vars();
        for (_, var, key) in SECRET_JAVA_KEYS {
            let v = vars
                .iter()
                .find(|v| v.name == var)
                .unwrap_or_else(|| panic!("{var} is not set"));
            assert_eq!(
                v.secret,
                Some(SecretRef {
                    name: "corp-proxy".into(),
                    key: key.into(),
                    optional: true
                })
            );
        }
    }

    #[test]
    fn credentials_never_reach_the_message() {
        for url in [
            "http://me:s3cret@proxy.corp:3128",
            "http://me:s3cret@proxy.corp:31x8",
            "http://:s3cret@proxy.corp:3128/",
            "http://me:s3cret@pr oxy:1",
        ] {
            let mut errs = ConfigErrors::default();
            resolve(&raw(url), &mut errs);
            let text = errs.to_string();
            assert!(
                text.contains("--proxy") && !text.contains("s3cret"),
                "{text}"
            );
        }
    }

    #[test]
    fn exceptions_java_would_split_or_unquote_are_refused() {
        for entry in ["a b", "a|b", "a\"b", "a'b", "a\\b", "a\tb"] {
            let mut errs = ConfigErrors::default();
            let r = Raw {
                no_proxy: Some(entry),
                ..raw("http://proxy.corp:3128")
            };
            resolve(&r, &mut errs);
            assert!(errs.to_string().contains("--no-proxy"), "{entry:?}: {errs}");
        }
    }

    #[test]
    fn default_ports_and_ipv6_hosts() {
        let mut errs = ConfigErrors::default();
        let p = resolve(&raw("https://[fd00::7]"), &mut errs).unwrap_or_else(|| panic!("{errs}"));
        let e = p.https.unwrap_or_else(|| panic!("no https proxy"));
        assert_eq!((e.host.as_str(), e.port), ("[fd00::7]", 443));
    }
}
