//! What a notification says, in the person's language: the item's title for one item,
//! "3 new stories" for several. Nothing else of the content travels through push services.

use relay_protocol::PushPayload;

/// The payload announcing `items` (id and title, newest first) to a person speaking `language`.
pub fn payload(items: &[(String, String)], language: &str) -> Option<PushPayload> {
    let (first_id, first_title) = items.first()?;
    if items.len() == 1 {
        return Some(PushPayload {
            items: vec![first_id.clone()],
            title: first_title.clone(),
            open: format!("relay://item/{first_id}"),
        });
    }
    let n = items.len();
    let title = if language.eq_ignore_ascii_case("fr") || language.starts_with("fr-") {
        format!("{n} nouveaux contenus à partager")
    } else {
        format!("{n} new stories to share")
    };
    Some(PushPayload {
        items: items.iter().map(|(id, _)| id.clone()).collect(),
        title,
        open: "relay://feed".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, title: &str) -> (String, String) {
        (id.into(), title.into())
    }

    #[test]
    fn one_item_carries_its_title_and_opens_it() {
        let p = payload(&[item("a", "Résumé du trimestre")], "fr").unwrap();
        assert_eq!(p.title, "Résumé du trimestre");
        assert_eq!(p.open, "relay://item/a");
        assert_eq!(p.items, ["a"]);
    }

    #[test]
    fn several_items_are_counted_in_the_persons_language() {
        let items = [item("a", "A"), item("b", "B"), item("c", "C")];
        assert_eq!(
            payload(&items, "fr").unwrap().title,
            "3 nouveaux contenus à partager"
        );
        assert_eq!(
            payload(&items, "en").unwrap().title,
            "3 new stories to share"
        );
        assert_eq!(payload(&items, "de").unwrap().open, "relay://feed");
        assert!(payload(&[], "en").is_none());
    }
}
