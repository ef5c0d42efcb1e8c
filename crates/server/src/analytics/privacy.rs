//! The k-anonymity rule of every breakdown: a group of fewer than [`MIN_GROUP`] people is
//! hidden, and while the hidden groups together hold fewer than [`MIN_GROUP`] people, the
//! smallest visible group is hidden with them (a month's total is shown, so the total minus the
//! visible groups would otherwise give the small group's figures away).

use std::collections::{BTreeMap, HashMap, HashSet};

use relay_protocol::{GroupFigures, MIN_GROUP};

/// What one person did in one group: shares, verified shares, clicks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Activity {
    pub shares: u64,
    pub verified: u64,
    pub clicks: u64,
}

/// Groups with each person's activity in them, to figures with the small groups hidden.
/// Visible groups come first, most people first; hidden ones after, by key.
pub fn groups(cells: BTreeMap<String, HashMap<String, Activity>>) -> Vec<GroupFigures> {
    let k = MIN_GROUP as usize;
    let everyone: HashSet<&String> = cells.values().flat_map(|people| people.keys()).collect();
    let mut hidden: HashSet<&String> = if everyone.len() < k {
        cells.keys().collect()
    } else {
        cells
            .iter()
            .filter(|(_, people)| people.len() < k)
            .map(|(key, _)| key)
            .collect()
    };
    loop {
        if hidden.is_empty() {
            break;
        }
        let union: HashSet<&String> = hidden.iter().flat_map(|key| cells[*key].keys()).collect();
        if union.len() >= k {
            break;
        }
        let Some(next) = cells
            .iter()
            .filter(|(key, _)| !hidden.contains(key))
            .min_by_key(|(key, people)| (people.len(), (*key).clone()))
            .map(|(key, _)| key)
        else {
            break;
        };
        hidden.insert(next);
    }
    let mut out: Vec<GroupFigures> = cells
        .iter()
        .map(|(key, people)| {
            if hidden.contains(key) {
                return GroupFigures {
                    key: key.clone(),
                    hidden: true,
                    people: None,
                    shares: None,
                    verified: None,
                    declared: None,
                    clicks: None,
                };
            }
            let sum = people.values().fold(Activity::default(), |a, b| Activity {
                shares: a.shares + b.shares,
                verified: a.verified + b.verified,
                clicks: a.clicks + b.clicks,
            });
            GroupFigures {
                key: key.clone(),
                hidden: false,
                people: Some(people.len() as u64),
                shares: Some(sum.shares),
                verified: Some(sum.verified),
                declared: Some(sum.shares - sum.verified),
                clicks: Some(sum.clicks),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        a.hidden
            .cmp(&b.hidden)
            .then(b.people.cmp(&a.people))
            .then(a.key.cmp(&b.key))
    });
    out
}

/// A count about people, or `None` when it describes fewer than [`MIN_GROUP`].
pub fn shown(people: u64) -> Option<u64> {
    (people >= MIN_GROUP).then_some(people)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(spec: &[(&str, &[&str])]) -> BTreeMap<String, HashMap<String, Activity>> {
        spec.iter()
            .map(|(key, people)| {
                let people = people
                    .iter()
                    .map(|p| {
                        (
                            (*p).to_owned(),
                            Activity {
                                shares: 2,
                                verified: 1,
                                clicks: 3,
                            },
                        )
                    })
                    .collect();
                ((*key).to_owned(), people)
            })
            .collect()
    }

    fn hidden(out: &[GroupFigures]) -> Vec<&str> {
        let mut keys: Vec<&str> = out
            .iter()
            .filter(|g| g.hidden)
            .map(|g| g.key.as_str())
            .collect();
        keys.sort();
        keys
    }

    #[test]
    fn a_small_group_is_hidden_with_the_smallest_other_one() {
        let out = groups(cells(&[
            ("FR", &["a", "b", "c", "d", "e", "f", "g"]),
            ("DE", &["h", "i", "j", "k", "l"]),
            ("BE", &["m"]),
        ]));
        // BE alone could be had as the month's total minus FR and DE.
        assert_eq!(hidden(&out), ["BE", "DE"]);
        let fr = out.iter().find(|g| g.key == "FR").unwrap();
        assert_eq!(
            (fr.people, fr.shares, fr.verified, fr.declared, fr.clicks),
            (Some(7), Some(14), Some(7), Some(7), Some(21))
        );
        assert!(out
            .iter()
            .filter(|g| g.hidden)
            .all(|g| g.shares.is_none() && g.people.is_none()));
    }

    #[test]
    fn small_groups_that_make_five_together_hide_nothing_else() {
        let out = groups(cells(&[
            ("FR", &["a", "b", "c", "d", "e"]),
            ("BE", &["f", "g"]),
            ("LU", &["h", "i", "j"]),
        ]));
        assert_eq!(hidden(&out), ["BE", "LU"]);
    }

    #[test]
    fn people_in_several_small_groups_count_once() {
        // A person shares on two networks: two small groups, but only four people behind them.
        let out = groups(cells(&[
            ("linkedin", &["a", "b", "c", "d", "e", "f"]),
            ("x", &["g", "h"]),
            ("bluesky", &["g", "h", "i", "j"]),
        ]));
        assert_eq!(hidden(&out), ["bluesky", "linkedin", "x"]);
    }

    #[test]
    fn fewer_than_five_people_in_all_hides_everything() {
        let out = groups(cells(&[("FR", &["a", "b", "c"]), ("DE", &["d"])]));
        assert_eq!(hidden(&out), ["DE", "FR"]);
        assert_eq!(shown(4), None);
        assert_eq!(shown(5), Some(5));
    }

    #[test]
    fn visible_groups_come_first_by_size() {
        let out = groups(cells(&[
            ("a", &["1", "2", "3", "4", "5"]),
            ("b", &["1", "2", "3", "4", "5", "6"]),
            ("c", &["7", "8", "9", "10", "11"]),
        ]));
        let keys: Vec<&str> = out.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(keys, ["b", "a", "c"]);
    }
}
