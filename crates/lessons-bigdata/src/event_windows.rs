//! The dataflow of `stream_processing`: event-time windows over a stream whose events arrive out
//! of order, on timely dataflow. A record's timely timestamp is its event time, or the watermark
//! if it arrives after the watermark has passed its event time; the input's frontier is the
//! watermark; a window closes when the frontier passes its end, and a record that arrives after
//! its window closed goes to a side output of late records, counted, never silently dropped.
//!
//! The same dataflow runs on one worker or on several processes talking over loopback TCP
//! (`stream-worker` is the second process). Every worker generates the same stream from the
//! same seed and feeds its share (event id modulo the number of workers); window assignments are
//! exchanged by window start, so each window is counted on exactly one worker.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use rand::Rng;
use rand_distr::Exp1;
use serde::{Deserialize, Serialize};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::ProbeHandle;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::core::{OkErr, UnorderedInput};
use timely::dataflow::operators::vec::Map;
use timely::dataflow::operators::{Exchange as _, Inspect, Operator, Probe};

/// One event: when it happened (event time) and when the stream processor received it
/// (processing time), both in milliseconds from the start of the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub id: u64,
    pub event_ms: u64,
    pub arrival_ms: u64,
}

/// How the events of [`simulate`] arrive: most after a short network delay, a few (a phone that
/// was offline) much later.
#[derive(Clone, Copy, Debug)]
pub struct Arrivals {
    /// Events per second of event time.
    pub rate_per_s: f64,
    /// The mean of the usual, exponentially distributed delay.
    pub mean_delay_ms: f64,
    /// The share of stragglers, delayed uniformly between the two bounds.
    pub straggler_share: f64,
    pub straggler_delay_ms: (u64, u64),
}

/// The stream the lesson and its second process both simulate: 100 events a second, most
/// arriving after 300 ms on average, 3 % of them 2–30 s late.
pub const ARRIVALS: Arrivals = Arrivals {
    rate_per_s: 100.0,
    mean_delay_ms: 300.0,
    straggler_share: 0.03,
    straggler_delay_ms: (2_000, 30_000),
};

/// The source releases what arrived every 100 ms of processing time.
pub const TICK_MS: u64 = 100;

/// The watermark trails the largest event time seen by 1 s.
pub const LAG_MS: u64 = 1_000;

/// `n` events from a Poisson process at `arrivals.rate_per_s`, each with its arrival time.
pub fn simulate(n: u64, arrivals: Arrivals, rng: &mut impl Rng) -> Vec<Event> {
    let mut now = 0.0;
    (0..n)
        .map(|id| {
            now += rng.sample::<f64, _>(Exp1) / arrivals.rate_per_s * 1e3;
            let delay = if rng.gen_bool(arrivals.straggler_share) {
                rng.gen_range(arrivals.straggler_delay_ms.0..arrivals.straggler_delay_ms.1) as f64
            } else {
                rng.sample::<f64, _>(Exp1) * arrivals.mean_delay_ms
            };
            Event {
                id,
                event_ms: now as u64,
                arrival_ms: (now + delay) as u64,
            }
        })
        .collect()
}

/// Windows of `size_ms` that start every `slide_ms`: tumbling when the two are equal, sliding
/// (overlapping) when the slide is shorter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Windows {
    size_ms: u64,
    slide_ms: u64,
}

impl Windows {
    pub fn tumbling(size_ms: u64) -> Windows {
        Windows {
            size_ms,
            slide_ms: size_ms,
        }
    }

    pub fn sliding(size_ms: u64, slide_ms: u64) -> Windows {
        Windows { size_ms, slide_ms }
    }

    pub fn size_ms(&self) -> u64 {
        self.size_ms
    }

    pub fn slide_ms(&self) -> u64 {
        self.slide_ms
    }

    /// The starts of the windows that contain time `t`.
    pub fn starts(&self, t: u64) -> Vec<u64> {
        let last = t / self.slide_ms * self.slide_ms;
        (0..=last / self.slide_ms)
            .map(|k| last - k * self.slide_ms)
            .take_while(|&start| start + self.size_ms > t)
            .collect()
    }
}

/// One tick of processing time: the events that arrived in it, and the watermark after it.
#[derive(Clone, Debug)]
pub struct Tick {
    pub events: Vec<Event>,
    pub watermark: u64,
}

/// The stream as a source releases it: events in arrival order, one batch per `tick_ms`, and after
/// each batch a watermark `lag_ms` behind the largest event time seen so far (never going back):
/// Flink's bounded out-of-orderness.
pub fn ticks(events: &[Event], tick_ms: u64, lag_ms: u64) -> Vec<Tick> {
    let mut by_arrival = events.to_vec();
    by_arrival.sort_by_key(|e| (e.arrival_ms, e.id));
    let mut ticks: Vec<Tick> = Vec::new();
    let (mut watermark, mut latest) = (0u64, 0u64);
    for event in by_arrival {
        let tick = event.arrival_ms / tick_ms;
        while ticks.len() as u64 <= tick {
            ticks.push(Tick {
                events: Vec::new(),
                watermark,
            });
        }
        latest = latest.max(event.event_ms);
        watermark = watermark.max(latest.saturating_sub(lag_ms));
        let current = ticks.last_mut().expect("a tick");
        current.events.push(event);
        current.watermark = watermark;
    }
    ticks
}

/// What the dataflow answers: each window's count of on-time events, and each late event with
/// the window it missed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WindowCounts {
    pub closed: BTreeMap<u64, u64>,
    pub late: Vec<(u64, u64)>,
}

/// A dataflow that could not be set up (a peer that did not connect) or whose worker failed.
#[derive(Debug, thiserror::Error)]
#[error("timely dataflow: {0}")]
pub struct DataflowError(String);

#[derive(Clone, Debug, Serialize, Deserialize)]
enum WindowResult {
    Closed { start: u64, count: u64 },
    Late { event: u64, start: u64 },
}

/// Runs the dataflow on the workers `config` describes and returns what worker 0 gathered (in
/// the other processes of a cluster, an empty answer).
pub fn count_windows(
    config: timely::Config,
    ticks: Arc<Vec<Tick>>,
    windows: Windows,
) -> Result<WindowCounts, DataflowError> {
    let gathered = Arc::new(Mutex::new(WindowCounts::default()));
    let shared = Arc::clone(&gathered);
    let guards = timely::execute(config, move |worker| {
        let (index, peers) = (worker.index() as u64, worker.peers() as u64);
        let probe = ProbeHandle::new();
        let (closed_sink, late_sink) = (Arc::clone(&shared), Arc::clone(&shared));
        let (mut input, mut capability) = worker.dataflow::<u64, _, _>(|scope| {
            let ((input, capability), events) =
                scope.new_unordered_input::<CapacityContainerBuilder<Vec<Event>>>();
            // Each event is assigned to every window that contains its event time, and the
            // assignments are shuffled by window number (start / slide): one worker counts each
            // window, and neighbouring windows go to different workers.
            let (size, slide) = (windows.size_ms(), windows.slide_ms());
            let (closed, late) = events
                .container::<Vec<Event>>()
                .flat_map(move |e: Event| {
                    windows
                        .starts(e.event_ms)
                        .into_iter()
                        .map(move |start| (start, e.id))
                })
                .unary_frontier(
                    Exchange::new(move |&(start, _): &(u64, u64)| start / slide),
                    "EventTimeWindows",
                    move |_, _| {
                        let mut open = BTreeMap::new();
                        move |(input, frontier), output| {
                            input.for_each(|time, data| {
                                // Every message here is sent under a capability, so its
                                // stamp has a least time: the time it was sent at.
                                let Some(&arrived) = time.least() else {
                                    return;
                                };
                                for (start, event) in data.drain(..) {
                                    let end = start + size;
                                    if arrived >= end {
                                        // The watermark had passed the window's end when the
                                        // event arrived: its window is closed.
                                        output
                                            .session(&time.delayed(&arrived, 0))
                                            .give(WindowResult::Late { event, start });
                                    } else {
                                        open.entry(start)
                                            .or_insert_with(|| (time.delayed(&end, 0), 0u64))
                                            .1 += 1;
                                    }
                                }
                            });
                            // A window closes once the frontier (the watermark) reaches its end.
                            while let Some(entry) = open.first_entry() {
                                if frontier.less_than(&(entry.key() + size)) {
                                    break;
                                }
                                let (start, (cap, count)) = entry.remove_entry();
                                output
                                    .session(&cap)
                                    .give(WindowResult::Closed { start, count });
                            }
                        }
                    },
                )
                .container::<Vec<WindowResult>>()
                .ok_err(|r| match r {
                    WindowResult::Closed { start, count } => Ok((start, count)),
                    WindowResult::Late { event, start } => Err((event, start)),
                });
            // Both outputs are gathered on worker 0.
            closed
                .container::<Vec<(u64, u64)>>()
                .exchange(|_| 0)
                .inspect(move |&(start, count)| {
                    closed_sink
                        .lock()
                        .expect("results")
                        .closed
                        .insert(start, count);
                })
                .probe_with(&probe);
            late.container::<Vec<(u64, u64)>>()
                .exchange(|_| 0)
                .inspect(move |&pair| late_sink.lock().expect("results").late.push(pair))
                .probe_with(&probe);
            (input, capability)
        });
        for tick in ticks.iter() {
            for event in tick.events.iter().filter(|e| e.id % peers == index) {
                // An event is sent at its event time, or at the watermark if that has passed it.
                let at = capability.delayed(&event.event_ms.max(*capability.time()));
                input.activate().session(&at).give(*event);
            }
            capability.downgrade(&tick.watermark);
            while probe.less_than(&tick.watermark) {
                worker.step();
            }
        }
    })
    .map_err(DataflowError)?;
    for result in guards.join() {
        result.map_err(DataflowError)?;
    }
    let mut answer = gathered
        .lock()
        .map_err(|e| DataflowError(e.to_string()))?
        .clone();
    answer.late.sort();
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_contain_their_times() {
        assert_eq!(Windows::tumbling(10).starts(25), [20]);
        assert_eq!(Windows::sliding(30, 10).starts(25), [20, 10, 0]);
        assert_eq!(Windows::sliding(30, 10).starts(5), [0]);
        assert_eq!(Windows::sliding(30, 10).starts(30), [30, 20, 10]);
    }

    #[test]
    fn the_watermark_trails_the_latest_event_and_never_goes_back() {
        let events = [(0, 5_000, 5_100), (1, 1_000, 5_200), (2, 9_000, 9_050)].map(
            |(id, event_ms, arrival_ms)| Event {
                id,
                event_ms,
                arrival_ms,
            },
        );
        let ticks = ticks(&events, 1_000, 2_000);
        let watermarks: Vec<u64> = ticks.iter().map(|t| t.watermark).collect();
        assert_eq!(
            watermarks,
            [0, 0, 0, 0, 0, 3_000, 3_000, 3_000, 3_000, 7_000]
        );
        assert_eq!(ticks[5].events.len(), 2);
    }
}
