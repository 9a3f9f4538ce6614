//! The browser links nemo prints: the project's claim link
//! (`<web>/workspace/claim?ct=…`) and the registration link
//! (`<web>?bind=<user_id>`), as `api.md` gives them.
//!
//! Under `--sandbox` the web URL is the `file://` folder where the
//! in-process emulator writes each page it would serve (it is gone when the
//! command ends, so an http link would not open): there each link is a file
//! of its own, `claim-<claim token>.html` or `register-<user id>.html`, the
//! names the emulator writes (`emulator/src/pages.rs`, checked end to end).

use reqwest::Url;

/// The claim link of `claim_token`.
pub fn claim(web: &Url, claim_token: &str) -> String {
    if web.scheme() == "file" {
        return page(web, &format!("claim-{}.html", file_safe(claim_token)));
    }
    let mut url = web.clone();
    url.set_path(&format!(
        "{}/workspace/claim",
        url.path().trim_end_matches('/')
    ));
    url.query_pairs_mut().append_pair("ct", claim_token);
    url.to_string()
}

/// The registration link of anonymous user `user_id`.
pub fn bind(web: &Url, user_id: &str) -> String {
    if web.scheme() == "file" {
        return page(web, &format!("register-{}.html", file_safe(user_id)));
    }
    let mut url = web.clone();
    url.query_pairs_mut().append_pair("bind", user_id);
    url.to_string()
}

/// The file `name` in the folder `web`.
fn page(web: &Url, name: &str) -> String {
    web.join(name)
        .map_or_else(|_| web.to_string(), |u| u.to_string())
}

/// What is safe in a file name: ASCII letters, digits, `_` and `-`.
fn file_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_links_follow_the_api() {
        let web = Url::parse("https://nemovideo.com").unwrap();
        assert_eq!(
            claim(&web, "clm_1"),
            "https://nemovideo.com/workspace/claim?ct=clm_1"
        );
        assert_eq!(bind(&web, "anon_1"), "https://nemovideo.com/?bind=anon_1");
    }

    #[test]
    fn sandbox_pages_are_files() {
        let web = Url::parse("file:///tmp/c/sandbox/pages/").unwrap();
        assert_eq!(
            claim(&web, "clm_1"),
            "file:///tmp/c/sandbox/pages/claim-clm_1.html"
        );
        assert_eq!(
            bind(&web, "anon/../x"),
            "file:///tmp/c/sandbox/pages/register-anon____x.html"
        );
    }
}
