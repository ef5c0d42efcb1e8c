//! Share intents: the network's own "share" page in the browser, for Facebook (no API posts to
//! personal profiles) and for networks without a connected account. The person posts there;
//! Relay records the share once they say they did.

use relay_protocol::Network;
use url::Url;

/// The share page of `network` for `url` with `text`, where the network has one that needs no
/// instance (Mastodon's lives on each server: none).
pub fn url(network: Network, text: &str, link: &str) -> Option<String> {
    let with_link = |text: &str| {
        if text.contains(link) {
            text.to_owned()
        } else {
            format!("{text} {link}").trim().to_owned()
        }
    };
    let url = match network {
        Network::Facebook => {
            Url::parse_with_params("https://www.facebook.com/sharer/sharer.php", &[("u", link)])
        }
        Network::Linkedin => Url::parse_with_params(
            "https://www.linkedin.com/sharing/share-offsite/",
            &[("url", link)],
        ),
        Network::X => Url::parse_with_params(
            "https://x.com/intent/post",
            &[("text", text), ("url", link)],
        ),
        Network::Bluesky => Url::parse_with_params(
            "https://bsky.app/intent/compose",
            &[("text", with_link(text).as_str())],
        ),
        Network::Mastodon => return None,
    };
    url.ok().map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intents_carry_the_link_encoded() {
        let link = "https://news.contoso.example/fr/été?a=1&b=2";
        let fb = url(Network::Facebook, "x", link).unwrap();
        assert!(fb.starts_with("https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2F"));
        assert!(
            !fb.contains("&b=2"),
            "the link's own query is encoded: {fb}"
        );
        let bsky = url(Network::Bluesky, "Lisez ça", link).unwrap();
        let parsed = Url::parse(&bsky).unwrap();
        let text = parsed.query_pairs().find(|(k, _)| k == "text").unwrap().1;
        assert_eq!(text, format!("Lisez ça {link}"));
        assert!(url(Network::Mastodon, "x", link).is_none());
    }
}
