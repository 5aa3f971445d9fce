//! A fault storm: a share of sends answered as a failing Meta or network would, drawn from a
//! seeded generator so a run can be repeated. The faults are transient ones a sender must
//! retry (HTTP 5xx, 429 with 130429, and an answer that never comes in time), and no
//! recipient gets more than `max_in_a_row` of them in a row, so a sender with a bounded
//! retry budget can still deliver everything.

use std::collections::HashMap;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::failure::Failure;

/// What a storm does to the sends it meets.
#[derive(Clone, Debug)]
pub struct FaultStorm {
    /// Share of sends that fail, 0.0 to 1.0.
    pub rate: f64,
    /// How long a send whose answer is lost waits before the mock gives up on it (504).
    pub hang: Duration,
    /// Most faults in a row for one recipient.
    pub max_in_a_row: u32,
    /// The generator's seed.
    pub seed: u64,
}

/// One fault.
#[derive(Clone, Debug)]
pub(crate) enum Fault {
    /// Answered at once with this failure; nothing was accepted.
    Refuse(Failure),
    /// Accepted, then no answer for `hang` and a 504: the sender cannot know it went out.
    LoseAnswer(Duration),
}

/// The storm's running state.
pub(crate) struct Storm {
    config: FaultStorm,
    rng: StdRng,
    in_a_row: HashMap<String, u32>,
}

impl Storm {
    pub(crate) fn new(config: FaultStorm) -> Storm {
        Storm {
            rng: StdRng::seed_from_u64(config.seed),
            config,
            in_a_row: HashMap::new(),
        }
    }

    /// The fault a send to `to` meets, if any.
    pub(crate) fn draw(&mut self, to: &str) -> Option<Fault> {
        let streak = self.in_a_row.entry(to.to_string()).or_default();
        if *streak >= self.config.max_in_a_row || !self.rng.gen_bool(self.config.rate) {
            *streak = 0;
            return None;
        }
        *streak += 1;
        Some(match self.rng.gen_range(0..3) {
            0 => Fault::Refuse(Failure::server_error()),
            1 => Fault::Refuse(Failure::graph(
                429,
                130429,
                "Rate limit hit: Cloud API message throughput has been reached.",
            )),
            _ => Fault::LoseAnswer(self.config.hang),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_storm_hits_about_its_rate_and_never_more_than_max_in_a_row() {
        let mut storm = Storm::new(FaultStorm {
            rate: 0.3,
            hang: Duration::from_secs(2),
            max_in_a_row: 3,
            seed: 7,
        });
        let mut faults = 0;
        let mut streak = 0;
        for _ in 0..10_000 {
            match storm.draw("34600111222") {
                Some(_) => {
                    faults += 1;
                    streak += 1;
                    assert!(streak <= 3);
                }
                None => streak = 0,
            }
        }
        assert!(
            (2_500..=3_200).contains(&faults),
            "{faults} faults of 10,000"
        );
    }
}
