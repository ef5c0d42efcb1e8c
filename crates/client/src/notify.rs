//! Which syncs deserve a desktop notification, decided here; showing it is the app's job
//! (a [`Notifier`]).

use serde::Serialize;

use crate::store::ApplyOutcome;

/// What a notification announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    NewContent,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    pub kind: NotificationKind,
    /// How many new items.
    pub count: usize,
    pub title: String,
    pub body: String,
    /// The item to open when clicked: the newest one.
    pub item_id: String,
    /// Its title, for apps that word the notification themselves.
    pub newest_title: String,
}

/// Shows notifications (notify-rust in the desktop app; a list in tests).
pub trait Notifier: Send + Sync {
    fn notify(&self, notification: &Notification);
}

/// Shows nothing: the command line.
pub struct Silent;

impl Notifier for Silent {
    fn notify(&self, _: &Notification) {}
}

/// One notification per sync at most: for items new to the device, in followed channels, never
/// for the very first sync (that is the whole feed, not news) nor while paused.
pub fn decide(
    outcomes: &[ApplyOutcome],
    first_sync: bool,
    paused: bool,
    followed: &[String],
) -> Option<Notification> {
    if first_sync || paused || outcomes.iter().any(|o| o.reset) {
        return None;
    }
    let fresh: Vec<&(String, String, String)> = outcomes
        .iter()
        .flat_map(|o| o.new_items.iter())
        .filter(|(_, _, channel)| followed.contains(channel))
        .collect();
    let newest = fresh.last()?;
    let count = fresh.len();
    let (title, body) = if count == 1 {
        ("New on Relay".to_owned(), newest.1.clone())
    } else {
        (
            format!("{count} new items on Relay"),
            format!("{} and {} more", newest.1, count - 1),
        )
    };
    Some(Notification {
        kind: NotificationKind::NewContent,
        count,
        title,
        body,
        item_id: newest.0.clone(),
        newest_title: newest.1.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(new: &[(&str, &str)]) -> ApplyOutcome {
        ApplyOutcome {
            new_items: new
                .iter()
                .map(|(id, ch)| ((*id).into(), format!("Title {id}"), (*ch).into()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn one_batched_notification_for_followed_news_only() {
        let followed = vec!["news".to_owned()];
        let pages = [
            outcome(&[("a", "news"), ("b", "jobs")]),
            outcome(&[("c", "news")]),
        ];
        let n = decide(&pages, false, false, &followed).unwrap();
        assert_eq!(n.count, 2);
        assert_eq!(n.item_id, "c");
        assert_eq!(n.body, "Title c and 1 more");
        assert_eq!(
            decide(&pages, true, false, &followed),
            None,
            "not for the first sync"
        );
        assert_eq!(
            decide(&pages, false, true, &followed),
            None,
            "not while paused"
        );
        assert_eq!(
            decide(&[outcome(&[("b", "jobs")])], false, false, &followed),
            None,
            "not for unfollowed channels"
        );
        assert_eq!(
            decide(&[outcome(&[])], false, false, &followed),
            None,
            "not for edits alone"
        );
    }
}
