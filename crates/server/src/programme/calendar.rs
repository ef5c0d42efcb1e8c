//! The programme's calendar: months and days in the organisation's time zone, and when a month
//! closes (its end plus a grace period, so devices that were offline can still report).

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use relay_protocol::MonthInfo;

use crate::error::ApiError;

/// A month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn parse(s: &str) -> Result<Month, ApiError> {
        let bad = || ApiError::bad(format!("{s:?} is not a month (YYYY-MM)"));
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if !(2000..=9999).contains(&year) || !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Month { year, month })
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn prev(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a valid month")
    }

    /// "November 2026", for messages.
    pub fn name(self) -> String {
        self.first_day().format("%B %Y").to_string()
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// An organisation's calendar.
#[derive(Debug, Clone, Copy)]
pub struct Calendar {
    pub zone: Tz,
    pub grace: chrono::Duration,
}

impl Calendar {
    pub fn new(zone: &str, grace: chrono::Duration) -> Calendar {
        // A stored zone was checked when set; an unknown one falls back to UTC, never fails.
        Calendar {
            zone: zone.parse().unwrap_or(Tz::UTC),
            grace,
        }
    }

    pub fn month_of(&self, at: DateTime<Utc>) -> Month {
        let local = at.with_timezone(&self.zone);
        Month {
            year: local.year(),
            month: local.month(),
        }
    }

    /// The local day, `YYYY-MM-DD` (the daily cap's day).
    pub fn day_of(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.zone).format("%Y-%m-%d").to_string()
    }

    /// The first instant of the local day `date` (the earliest valid one on a DST gap).
    fn start_of(&self, date: NaiveDate) -> DateTime<Utc> {
        let midnight = date.and_hms_opt(0, 0, 0).expect("midnight");
        match self.zone.from_local_datetime(&midnight) {
            chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
                t.with_timezone(&Utc)
            }
            // No zone skips more than a few hours at midnight.
            chrono::LocalResult::None => (1..=4)
                .find_map(|h| {
                    self.zone
                        .from_local_datetime(&(midnight + chrono::Duration::hours(h)))
                        .earliest()
                })
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|| Utc.from_utc_datetime(&midnight)),
        }
    }

    pub fn starts_at(&self, month: Month) -> DateTime<Utc> {
        self.start_of(month.first_day())
    }

    pub fn ends_at(&self, month: Month) -> DateTime<Utc> {
        self.starts_at(month.next())
    }

    pub fn closes_at(&self, month: Month) -> DateTime<Utc> {
        self.ends_at(month) + self.grace
    }

    pub fn is_closed(&self, month: Month, now: DateTime<Utc>) -> bool {
        now >= self.closes_at(month)
    }

    pub fn info(&self, month: Month) -> MonthInfo {
        MonthInfo {
            month: month.to_string(),
            time_zone: self.zone.name().to_owned(),
            starts_at: self.starts_at(month),
            ends_at: self.ends_at(month),
            closes_at: self.closes_at(month),
        }
    }
}

/// Checks an IANA time zone name.
pub fn check_zone(name: &str) -> Result<Tz, ApiError> {
    name.parse::<Tz>().map_err(|_| {
        ApiError::bad(format!(
            "{name:?} is not a time zone (an IANA name such as Europe/Paris)"
        ))
    })
}

/// The organisation's calendar: its time zone, and `grace` (the server's) before a month closes.
pub async fn calendar_of(
    conn: &mut sqlx::AnyConnection,
    grace: chrono::Duration,
    org_id: &str,
) -> Result<Calendar, crate::error::ApiError> {
    let zone: String = sqlx::query_scalar("SELECT time_zone FROM orgs WHERE id = $1")
        .bind(org_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(Calendar::new(&zone, grace))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paris() -> Calendar {
        Calendar::new("Europe/Paris", chrono::Duration::hours(72))
    }

    #[test]
    fn months_follow_the_organisations_zone() {
        let cal = paris();
        // 23:30 UTC on 30 November is 00:30 on 1 December in Paris.
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 23, 30, 0).unwrap();
        assert_eq!(cal.month_of(at).to_string(), "2026-12");
        assert_eq!(cal.day_of(at), "2026-12-01");
        let utc = Calendar::new("UTC", chrono::Duration::hours(72));
        assert_eq!(utc.month_of(at).to_string(), "2026-11");
    }

    #[test]
    fn a_month_closes_after_its_grace() {
        let cal = paris();
        let nov = Month::parse("2026-11").unwrap();
        assert_eq!(
            cal.ends_at(nov),
            Utc.with_ymd_and_hms(2026, 11, 30, 23, 0, 0).unwrap()
        );
        assert_eq!(
            cal.closes_at(nov),
            Utc.with_ymd_and_hms(2026, 12, 3, 23, 0, 0).unwrap()
        );
        assert!(!cal.is_closed(nov, Utc.with_ymd_and_hms(2026, 12, 3, 22, 59, 0).unwrap()));
        assert!(cal.is_closed(nov, Utc.with_ymd_and_hms(2026, 12, 3, 23, 0, 0).unwrap()));
        assert_eq!(nov.name(), "November 2026");
        assert_eq!(
            Month::parse("2026-12").unwrap().next().to_string(),
            "2027-01"
        );
    }

    #[test]
    fn months_are_checked() {
        for bad in [
            "2026-13", "2026-1", "26-01", "2026/01", "", "2026-00", "abcd-ef",
        ] {
            assert!(Month::parse(bad).is_err(), "{bad}");
        }
        assert!(check_zone("Mars/Olympus").is_err());
        assert!(check_zone("America/New_York").is_ok());
    }
}
