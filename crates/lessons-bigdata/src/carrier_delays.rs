//! The answer several big-data lessons compute with different engines — flights and mean arrival
//! delay per carrier — read out of a DataFrame, and compared.

use std::collections::BTreeMap;

use polars::prelude::*;

/// Per carrier: (flights, mean arrival delay in minutes).
pub type CarrierDelays = BTreeMap<String, (u64, f64)>;

/// Reads a frame with the columns `carrier`, `flights` and `mean_arr_delay`.
pub fn from_frame(frame: &DataFrame) -> PolarsResult<CarrierDelays> {
    let carriers = frame.column("carrier")?.str()?;
    let flights = frame.column("flights")?.cast(&DataType::UInt64)?;
    let flights = flights.u64()?;
    let means = frame.column("mean_arr_delay")?.f64()?;
    let missing = |what: &str| PolarsError::ComputeError(format!("a missing {what}").into());
    (0..frame.height())
        .map(|i| {
            Ok((
                carriers
                    .get(i)
                    .ok_or_else(|| missing("carrier"))?
                    .to_string(),
                (
                    flights.get(i).ok_or_else(|| missing("count"))?,
                    means.get(i).ok_or_else(|| missing("mean"))?,
                ),
            ))
        })
        .collect()
}

/// Whether two answers have the same carriers and counts, and means within 1e-9 (relative):
/// engines add in different orders.
pub fn same(a: &CarrierDelays, b: &CarrierDelays) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|((ka, va), (kb, vb))| {
            ka == kb && va.0 == vb.0 && (va.1 - vb.1).abs() <= 1e-9 * va.1.abs().max(1.0)
        })
}
