//! Disclosure control across a month's linked tables.
//!
//! Every figure published about a month is a sum over records (shares, people, points) of the
//! records in one group, or in all of them (a total). Whoever reads them all can add and subtract
//! any of them: what they can learn is any linear combination of the published figures. Seen
//! from the records, each record has a *signature*: the published figures it counts in. Records
//! with the same signature (an *atom*) cannot be told apart by any combination; a combination
//! can at best weigh each atom differently.
//!
//! The rule: for every measure, the atoms with at least [`MIN_GROUP`] contributors (people with a
//! non-zero value in them) must span, as vectors of published figures, everything the small
//! atoms span. Then any combination that is not zero weighs some large atom: no combination
//! describes fewer than five people, whatever is added or subtracted (if one did, it would vanish
//! on every large atom, and since the large atoms span the whole space it would vanish on all of
//! them). Groups are hidden, smallest first, until that holds; a hidden group joins the
//! "rest" of its dimension, which the total minus the visible groups gives away, so the rest is an
//! atom boundary like any group.
//!
//! Linear algebra is done modulo a 61-bit prime: the vectors hold 0s and 1s, and a rank that
//! differs from the rational one would need the prime to divide a minor of such a matrix.

use std::collections::{BTreeMap, HashMap, HashSet};

use relay_protocol::MIN_GROUP;

/// Figures of one kind of record, published in total and by some dimensions.
#[derive(Debug, Clone, Default)]
pub struct Family {
    /// The dimensions (indices shared by every family) its figures are broken down by.
    pub dims: Vec<usize>,
    /// How many measures each record carries.
    pub measures: usize,
    /// Measures that add up to each other (shares = verified + declared): when one is hidden
    /// everywhere, the others of its set are too.
    pub linked: Vec<Vec<usize>>,
    /// Whether the family's total is published (a team board has none).
    pub total: bool,
    pub records: Vec<Record>,
}

/// One record: whose, its group in each of its family's dimensions, its measures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub person: u32,
    pub groups: Vec<u32>,
    pub values: Vec<u64>,
}

/// What may be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Per dimension, the groups hidden.
    pub hidden: Vec<HashSet<u32>>,
    /// Per family and measure, whether it is hidden everywhere (its total and every group):
    /// fewer than five people contribute to it at all.
    pub totals_hidden: Vec<Vec<bool>>,
}

impl Decision {
    pub fn shows(&self, dim: usize, group: u32) -> bool {
        !self.hidden[dim].contains(&group)
    }
}

/// Decides which groups and totals to hide so that no combination of what is shown describes
/// fewer than [`MIN_GROUP`] people.
pub fn decide(families: &[Family], dimensions: usize) -> Decision {
    // The people of each group, over every family: the smallest group goes first.
    let mut people: Vec<HashMap<u32, HashSet<u32>>> = vec![HashMap::new(); dimensions];
    for family in families {
        for record in &family.records {
            for (at, &dim) in family.dims.iter().enumerate() {
                people[dim]
                    .entry(record.groups[at])
                    .or_default()
                    .insert(record.person);
            }
        }
    }
    let size = |dim: usize, group: u32| people[dim].get(&group).map_or(0, |p| p.len());
    let mut decision = Decision {
        hidden: people
            .iter()
            .map(|groups| {
                groups
                    .iter()
                    .filter(|(_, p)| (p.len() as u64) < MIN_GROUP)
                    .map(|(g, _)| *g)
                    .collect()
            })
            .collect(),
        totals_hidden: families
            .iter()
            .map(|f| {
                let mut dropped: Vec<bool> = (0..f.measures)
                    .map(|m| {
                        let contributors: HashSet<u32> = f
                            .records
                            .iter()
                            .filter(|r| r.values[m] > 0)
                            .map(|r| r.person)
                            .collect();
                        (1..MIN_GROUP).contains(&(contributors.len() as u64))
                    })
                    .collect();
                for set in &f.linked {
                    if set.iter().any(|m| dropped[*m]) {
                        for m in set {
                            dropped[*m] = true;
                        }
                    }
                }
                dropped
            })
            .collect(),
    };
    loop {
        let mut to_hide: HashSet<(usize, u32)> = HashSet::new();
        let mut changed = false;
        for (fi, family) in families.iter().enumerate() {
            for measure in 0..family.measures {
                if decision.totals_hidden[fi][measure] {
                    continue;
                }
                for (small, near) in exposed(family, measure, &decision) {
                    // Merge the small atom toward the nearest large one: hide a group where they
                    // differ. With no large atom, a group of the small one; failing that (it lies
                    // in every rest), any visible group of the family.
                    let mut candidates: Vec<(usize, u32)> = match &near {
                        Some(large) => family
                            .dims
                            .iter()
                            .zip(small.iter().zip(large))
                            .filter(|(_, (a, b))| a != b)
                            .flat_map(|(&dim, (a, b))| [a.map(|g| (dim, g)), b.map(|g| (dim, g))])
                            .flatten()
                            .collect(),
                        None => family
                            .dims
                            .iter()
                            .zip(&small)
                            .filter_map(|(&dim, g)| g.map(|g| (dim, g)))
                            .collect(),
                    };
                    if candidates.is_empty() {
                        let shown = &decision;
                        candidates = family
                            .dims
                            .iter()
                            .flat_map(|&dim| {
                                people[dim]
                                    .keys()
                                    .filter(move |g| shown.shows(dim, **g))
                                    .map(move |g| (dim, *g))
                            })
                            .collect();
                    }
                    match candidates
                        .into_iter()
                        .min_by_key(|&(dim, g)| (size(dim, g), dim, g))
                    {
                        Some(group) => {
                            to_hide.insert(group);
                        }
                        None => {
                            for m in linked(family, measure) {
                                decision.totals_hidden[fi][m] = true;
                            }
                            changed = true;
                        }
                    }
                }
            }
        }
        if to_hide.is_empty() && !changed {
            return decision;
        }
        for (dim, group) in to_hide {
            decision.hidden[dim].insert(group);
        }
    }
}

/// The measures hidden with `measure`: its linked set, or itself.
fn linked(family: &Family, measure: usize) -> Vec<usize> {
    family
        .linked
        .iter()
        .find(|set| set.contains(&measure))
        .cloned()
        .unwrap_or_else(|| vec![measure])
}

type Atom = Vec<Option<u32>>;

/// The small atoms of `measure` that the large ones do not span, each with the large atom
/// nearest to it (fewest dimensions apart). An atom is its visible group per dimension of the
/// family (`None` for the rest).
fn exposed(family: &Family, measure: usize, decision: &Decision) -> Vec<(Atom, Option<Atom>)> {
    let mut atoms: BTreeMap<Atom, HashSet<u32>> = BTreeMap::new();
    for record in family.records.iter().filter(|r| r.values[measure] > 0) {
        let atom = family
            .dims
            .iter()
            .zip(&record.groups)
            .map(|(&dim, &g)| decision.shows(dim, g).then_some(g))
            .collect();
        atoms.entry(atom).or_default().insert(record.person);
    }
    let (large, small): (Vec<_>, Vec<_>) = atoms
        .into_iter()
        .partition(|(_, people)| people.len() as u64 >= MIN_GROUP);
    if small.is_empty() {
        return Vec::new();
    }
    // Row 0 is the total; then each visible group of each dimension.
    let mut rows: HashMap<(usize, u32), usize> = HashMap::new();
    let mut row = |at: usize, g: u32| {
        let next = rows.len() + 1;
        *rows.entry((at, g)).or_insert(next)
    };
    let total = family.total;
    let mut vector = |atom: &[Option<u32>]| -> Vec<usize> {
        let mut v = if total { vec![0] } else { Vec::new() };
        v.extend(
            atom.iter()
                .enumerate()
                .filter_map(|(at, g)| g.map(|g| row(at, g))),
        );
        v
    };
    let large: Vec<(Atom, Vec<usize>)> = large
        .into_iter()
        .map(|(atom, _)| {
            let v = vector(&atom);
            (atom, v)
        })
        .collect();
    let small: Vec<(Atom, Vec<usize>)> = small
        .into_iter()
        .map(|(atom, _)| {
            let v = vector(&atom);
            (atom, v)
        })
        .collect();
    let width = rows.len() + 1;
    let mut basis = Basis::new(width);
    for (_, v) in &large {
        if basis.full() {
            break;
        }
        basis.insert(v);
    }
    small
        .into_iter()
        .filter(|(_, v)| !basis.spans(v))
        .map(|(atom, _)| {
            let apart = |other: &Atom| atom.iter().zip(other).filter(|(a, b)| a != b).count();
            let near = large
                .iter()
                .map(|(other, _)| other)
                .min_by_key(|other| apart(other))
                .cloned();
            (atom, near)
        })
        .collect()
}

const P: u64 = (1 << 61) - 1;

fn mul(a: u64, b: u64) -> u64 {
    ((a as u128 * b as u128) % P as u128) as u64
}

fn pow(mut a: u64, mut e: u64) -> u64 {
    let mut r = 1;
    while e > 0 {
        if e & 1 == 1 {
            r = mul(r, a);
        }
        a = mul(a, a);
        e >>= 1;
    }
    r
}

/// A row-reduced basis over the integers modulo [`P`]: each row has a pivot column where the
/// rows after it are zero.
pub struct Basis {
    width: usize,
    rows: Vec<(usize, Vec<u64>)>,
}

impl Basis {
    pub fn new(width: usize) -> Basis {
        Basis {
            width,
            rows: Vec::new(),
        }
    }

    pub fn rank(&self) -> usize {
        self.rows.len()
    }

    fn full(&self) -> bool {
        self.rows.len() == self.width
    }

    fn reduce(&self, ones: &[usize]) -> Vec<u64> {
        let mut v = vec![0u64; self.width];
        for &i in ones {
            v[i] = (v[i] + 1) % P;
        }
        for (pivot, row) in &self.rows {
            let f = v[*pivot];
            if f == 0 {
                continue;
            }
            for (x, r) in v.iter_mut().zip(row) {
                if *r != 0 {
                    *x = (*x + P - mul(f, *r)) % P;
                }
            }
        }
        v
    }

    /// Adds the vector with a 1 at each of `ones`; whether it was new.
    pub fn insert(&mut self, ones: &[usize]) -> bool {
        let v = self.reduce(ones);
        self.push(v)
    }

    fn push(&mut self, mut v: Vec<u64>) -> bool {
        let Some(pivot) = v.iter().position(|x| *x != 0) else {
            return false;
        };
        let inverse = pow(v[pivot], P - 2);
        for x in v.iter_mut() {
            *x = mul(*x, inverse);
        }
        self.rows.push((pivot, v));
        true
    }

    /// Whether the vector with a 1 at each of `ones` is a combination of the rows.
    pub fn spans(&self, ones: &[usize]) -> bool {
        self.reduce(ones).iter().all(|x| *x == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHANNEL: usize = 0;
    const ITEM: usize = 1;

    fn family(dims: Vec<usize>, measures: usize, records: Vec<Record>) -> Family {
        Family {
            dims,
            measures,
            linked: Vec::new(),
            total: true,
            records,
        }
    }

    fn record(person: u32, groups: &[u32], values: &[u64]) -> Record {
        Record {
            person,
            groups: groups.to_vec(),
            values: values.to_vec(),
        }
    }

    #[test]
    fn a_hidden_group_that_adds_nothing_to_a_figure_does_not_shield_the_other() {
        // Measures: shares, reach. Networks 0 (ten people, reach known), 1 (one person with
        // reach), 2 (four people, no reach): 1 and 2 hold five people together, but the total
        // reach minus network 0's gives the one person's reach.
        let mut records = Vec::new();
        for p in 0..10 {
            records.push(record(p, &[0], &[1, 100]));
        }
        records.push(record(10, &[1], &[1, 250]));
        for p in 11..15 {
            records.push(record(p, &[2], &[1, 0]));
        }
        let family = family(vec![0], 2, records);
        let d = decide(&[family], 1);
        // Everything by network goes; the total reach (eleven people) stays.
        assert!(!d.shows(0, 0) && !d.shows(0, 1) && !d.shows(0, 2));
        assert_eq!(d.totals_hidden, vec![vec![false, false]]);
    }

    #[test]
    fn a_channel_less_its_one_visible_item_is_not_given_away() {
        // Channel 0 holds items 0 (six people) and 1 (one person): item 1 is small, and the
        // channel minus item 0 would give it.
        let mut records = Vec::new();
        for p in 0..6 {
            records.push(record(p, &[0, 0], &[1]));
        }
        records.push(record(6, &[0, 1], &[1]));
        // Another channel, large, so that the total is not the problem.
        for p in 7..20 {
            records.push(record(p, &[1, 2], &[1]));
        }
        let family = family(vec![CHANNEL, ITEM], 1, records);
        let d = decide(&[family], 2);
        assert!(!d.shows(ITEM, 1));
        // Either the channel or its visible item goes too.
        assert!(!d.shows(CHANNEL, 0) || !d.shows(ITEM, 0));
    }

    #[test]
    fn nested_groups_are_not_subtracted() {
        // Department 0 lies inside country 0 but for one person of country 0: country 0 minus
        // department 0 is that person.
        let mut records = Vec::new();
        for p in 0..8 {
            records.push(record(p, &[0, 0], &[1]));
        }
        records.push(record(8, &[0, 1], &[1]));
        for p in 9..20 {
            records.push(record(p, &[1, 1], &[1]));
        }
        let family = family(vec![0, 1], 1, records);
        let d = decide(&[family], 2);
        let shown = |dim, g| d.shows(dim, g);
        assert!(!(shown(0, 0) && shown(1, 0)), "{d:?}");
    }

    #[test]
    fn crossed_groups_with_large_cells_all_stay() {
        // Two countries by two departments, each cell of six people: nothing to hide.
        let mut records = Vec::new();
        let mut p = 0;
        for c in 0..2 {
            for d in 0..2 {
                for _ in 0..6 {
                    records.push(record(p, &[c, d], &[1]));
                    p += 1;
                }
            }
        }
        let family = family(vec![0, 1], 1, records);
        let d = decide(&[family], 2);
        assert!(d.hidden.iter().all(HashSet::is_empty));
    }

    #[test]
    fn crossed_groups_with_one_small_cell_keep_their_margins() {
        // One small cell among large ones is spanned by the others: margins alone never
        // isolate a cell of a connected table.
        let mut records = Vec::new();
        let mut p = 0;
        for (c, d, n) in [
            (0, 0, 6),
            (0, 1, 6),
            (1, 0, 6),
            (1, 1, 1),
            (2, 0, 6),
            (2, 1, 6),
        ] {
            for _ in 0..n {
                records.push(record(p, &[c, d], &[1]));
                p += 1;
            }
        }
        let family = family(vec![0, 1], 1, records);
        let d = decide(&[family], 2);
        assert!(d.hidden.iter().all(HashSet::is_empty), "{d:?}");
    }

    #[test]
    fn fewer_than_five_people_hide_the_total() {
        let records = (0..4).map(|p| record(p, &[0], &[1])).collect();
        let family = family(vec![0], 1, records);
        let d = decide(&[family], 1);
        assert_eq!(d.totals_hidden, vec![vec![true]]);
    }

    #[test]
    fn a_measure_few_contribute_to_is_hidden_everywhere_and_hides_no_group() {
        // Ten people share, one has clicks: clicks go, every group stays.
        let records = (0..10)
            .map(|p| record(p, &[p % 2], &[1, u64::from(p == 3)]))
            .collect();
        let family = family(vec![0], 2, records);
        let d = decide(&[family], 1);
        assert_eq!(d.totals_hidden, vec![vec![false, true]]);
        assert!(d.hidden[0].is_empty());
    }

    #[test]
    fn the_basis_knows_what_it_spans() {
        let mut b = Basis::new(3);
        assert!(b.insert(&[0, 1]));
        assert!(b.insert(&[0, 2]));
        assert!(!b.spans(&[0]));
        assert!(b.spans(&[0, 0, 1, 2]));
        assert!(!b.spans(&[1, 1, 2, 2, 0, 0]));
        assert!(!b.insert(&[1, 2, 0, 0]));
        assert_eq!(b.rank(), 2);
    }
}
