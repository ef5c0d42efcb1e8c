//! The threshold of a lone count: a count of people is shown from [`MIN_GROUP`] on. Figures of
//! a month that can be combined with each other are decided together (`disclosure.rs`).

use relay_protocol::MIN_GROUP;

/// A count about people, or `None` when it describes fewer than [`MIN_GROUP`].
pub fn shown(people: u64) -> Option<u64> {
    (people >= MIN_GROUP).then_some(people)
}

#[cfg(test)]
mod tests {
    #[test]
    fn fewer_than_five_is_not_shown() {
        assert_eq!(super::shown(4), None);
        assert_eq!(super::shown(5), Some(5));
    }
}
