//! A person's notification preferences, kept on the server so they hold for every device: a
//! pause, and quiet hours in their time zone.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use relay_protocol::{NotificationPrefs, QuietHours};

use crate::db::to_time;
use crate::error::ApiError;

/// Quiet hours by default: 21:00 to 08:00.
pub const DEFAULT_QUIET_START: i64 = 21 * 60;
pub const DEFAULT_QUIET_END: i64 = 8 * 60;

/// `HH:MM` to minutes after midnight.
pub fn parse_clock(field: &str, value: &str) -> Result<i64, ApiError> {
    let time = NaiveTime::parse_from_str(value.trim(), "%H:%M")
        .map_err(|_| ApiError::bad(format!("{field} must be a time as HH:MM, like 21:00")))?;
    Ok(i64::from(time.hour_minutes()))
}

trait HourMinutes {
    fn hour_minutes(&self) -> u32;
}

impl HourMinutes for NaiveTime {
    fn hour_minutes(&self) -> u32 {
        use chrono::Timelike;
        self.hour() * 60 + self.minute()
    }
}

/// Minutes after midnight to `HH:MM`.
pub fn clock(minutes: i64) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The preferences as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Stored {
    pub push_paused_until: Option<i64>,
    pub quiet_start: i64,
    pub quiet_end: i64,
    pub time_zone: Option<String>,
}

impl Stored {
    pub fn to_wire(&self, now: i64) -> NotificationPrefs {
        NotificationPrefs {
            paused_until: self
                .push_paused_until
                .filter(|until| *until > now)
                .map(to_time),
            quiet_hours: QuietHours {
                start: clock(self.quiet_start),
                end: clock(self.quiet_end),
            },
            time_zone: self.time_zone.clone(),
        }
    }
}

/// When quiet hours that cover `now` end (none: `now` is not in them). Quiet hours run from
/// `start` to `end` minutes after local midnight, across midnight when `end < start`; equal
/// times mean none.
pub fn quiet_until(now: DateTime<Utc>, zone: Tz, start: i64, end: i64) -> Option<DateTime<Utc>> {
    if start == end {
        return None;
    }
    let local = now.with_timezone(&zone);
    let minute = {
        use chrono::Timelike;
        i64::from(local.hour() * 60 + local.minute())
    };
    let quiet = if start < end {
        minute >= start && minute < end
    } else {
        minute >= start || minute < end
    };
    if !quiet {
        return None;
    }
    // The end is today when it is still ahead, else tomorrow.
    let date = if minute < end {
        local.date_naive()
    } else {
        local.date_naive() + Duration::days(1)
    };
    let end_time = NaiveTime::from_hms_opt((end / 60) as u32, (end % 60) as u32, 0)?;
    let naive = date.and_time(end_time);
    // A time skipped by a clock change: the hour after it.
    let end_local = zone.from_local_datetime(&naive).earliest().or_else(|| {
        zone.from_local_datetime(&(naive + Duration::hours(1)))
            .earliest()
    })?;
    Some(end_local.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn quiet_hours_across_midnight_end_in_the_morning_local_time() {
        let paris: Tz = "Europe/Paris".parse().unwrap();
        // 22:30 in Paris (UTC+1 in December): quiet until 08:00 Paris the next day.
        let until = quiet_until(at("2026-12-03T21:30:00Z"), paris, 21 * 60, 8 * 60).unwrap();
        assert_eq!(until, at("2026-12-04T07:00:00Z"));
        // 06:00 in Paris: quiet until 08:00 the same day.
        let until = quiet_until(at("2026-12-04T05:00:00Z"), paris, 21 * 60, 8 * 60).unwrap();
        assert_eq!(until, at("2026-12-04T07:00:00Z"));
        // 12:00 in Paris: not quiet; the same instant is 23:00 in Auckland, which is.
        assert!(quiet_until(at("2026-12-04T11:00:00Z"), paris, 21 * 60, 8 * 60).is_none());
        let auckland: Tz = "Pacific/Auckland".parse().unwrap();
        assert!(quiet_until(at("2026-12-04T11:00:00Z"), auckland, 21 * 60, 8 * 60).is_some());
    }

    #[test]
    fn quiet_hours_within_a_day_and_switched_off() {
        let utc: Tz = "UTC".parse().unwrap();
        let until = quiet_until(at("2026-12-04T12:30:00Z"), utc, 12 * 60, 14 * 60).unwrap();
        assert_eq!(until, at("2026-12-04T14:00:00Z"));
        assert!(quiet_until(at("2026-12-04T14:00:00Z"), utc, 12 * 60, 14 * 60).is_none());
        assert!(quiet_until(at("2026-12-04T12:30:00Z"), utc, 600, 600).is_none());
    }

    #[test]
    fn clock_times_are_read_and_written_as_hh_mm() {
        assert_eq!(parse_clock("start", "21:00").unwrap(), 1260);
        assert_eq!(clock(480), "08:00");
        assert!(parse_clock("start", "25:00").is_err());
        assert!(parse_clock("start", "9pm").is_err());
    }
}
