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
    /// Followers summed over the shares that said, and the shares that did not.
    pub reach: u64,
    pub reach_unknown: u64,
}

/// One group's totals: its number of people and what they did together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupTotals {
    pub people: u64,
    pub activity: Activity,
}

impl Activity {
    fn plus(self, b: Activity) -> Activity {
        Activity {
            shares: self.shares + b.shares,
            verified: self.verified + b.verified,
            clicks: self.clicks + b.clicks,
            reach: self.reach + b.reach,
            reach_unknown: self.reach_unknown + b.reach_unknown,
        }
    }
}

/// The groups hidden from the start: those of fewer than [`MIN_GROUP`] people, or all of them
/// when fewer than that many people are behind the whole breakdown (`everyone`).
pub fn first_hidden(totals: &BTreeMap<String, GroupTotals>, everyone: u64) -> HashSet<String> {
    totals
        .iter()
        .filter(|(_, t)| everyone < MIN_GROUP || t.people < MIN_GROUP)
        .map(|(key, _)| key.clone())
        .collect()
}

/// The next group to hide while the hidden ones hold fewer than [`MIN_GROUP`] people together:
/// the smallest visible one (`None` when none is left).
pub fn next_hidden(
    totals: &BTreeMap<String, GroupTotals>,
    hidden: &HashSet<String>,
) -> Option<String> {
    totals
        .iter()
        .filter(|(key, _)| !hidden.contains(*key))
        .min_by_key(|(key, t)| (t.people, (*key).clone()))
        .map(|(key, _)| key.clone())
}

/// The figures of each group, `hidden` ones without any. Visible groups come first, most
/// people first; hidden ones after, by key.
pub fn figures(
    totals: &BTreeMap<String, GroupTotals>,
    hidden: &HashSet<String>,
) -> Vec<GroupFigures> {
    let mut out: Vec<GroupFigures> = totals
        .iter()
        .map(|(key, t)| {
            let show = !hidden.contains(key);
            let a = t.activity;
            let when = |v: u64| show.then_some(v);
            GroupFigures {
                key: key.clone(),
                hidden: !show,
                people: when(t.people),
                shares: when(a.shares),
                verified: when(a.verified),
                declared: when(a.shares - a.verified),
                clicks: when(a.clicks),
                reach: when(a.reach),
                reach_unknown: when(a.reach_unknown),
                label: None,
                reads: None,
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

/// Groups with each person's activity in them, to figures with the small groups hidden: while
/// the hidden groups hold fewer than [`MIN_GROUP`] people together (people in several of them
/// counted once), the smallest visible group is hidden with them.
pub fn groups(cells: BTreeMap<String, HashMap<String, Activity>>) -> Vec<GroupFigures> {
    let everyone: HashSet<&String> = cells.values().flat_map(|people| people.keys()).collect();
    let totals: BTreeMap<String, GroupTotals> = cells
        .iter()
        .map(|(key, people)| {
            let activity = people.values().fold(Activity::default(), |a, b| a.plus(*b));
            let people = people.len() as u64;
            (key.clone(), GroupTotals { people, activity })
        })
        .collect();
    let mut hidden = first_hidden(&totals, everyone.len() as u64);
    let union = |hidden: &HashSet<String>| -> usize {
        hidden
            .iter()
            .flat_map(|key| cells[key].keys())
            .collect::<HashSet<_>>()
            .len()
    };
    while !hidden.is_empty() && (union(&hidden) as u64) < MIN_GROUP {
        let Some(next) = next_hidden(&totals, &hidden) else {
            break;
        };
        hidden.insert(next);
    }
    figures(&totals, &hidden)
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
                                ..Activity::default()
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
