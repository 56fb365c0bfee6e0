//! The distributed-DataFrame lesson (section 8, `distributed_dataframes`) and its cluster
//! process, `ballista-node`. Apache DataFusion Ballista brings arrow-rs, DataFusion and a second
//! object_store; this package keeps them out of every other lesson's build.
