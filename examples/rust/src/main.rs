//! A small order service: four worker threads take orders from a queue,
//! each order is logged through a child logger that carries its request id
//! and trace context, and failed payments take the error path.
//!
//! Run: `cargo run -p ringlog-example-rust` (JSON on stderr), or with
//! `RINGLOG_FORMAT=console` for human-readable lines.

use ringlog::{Field, TraceContext};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct Order {
    id: u64,
    user: &'static str,
    cents: i64,
}

fn main() {
    let rt = match ringlog::global::init(None) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ringlog: {e}");
            std::process::exit(2);
        }
    };
    let log = rt.logger("orders");
    log.info("service starting", &[Field::i64("workers", 4)])
        .ok();

    let (tx, rx) = mpsc::channel::<Order>();
    let rx = Arc::new(Mutex::new(rx));
    let mut workers = Vec::new();
    for w in 0..4i64 {
        let rx = rx.clone();
        let rt = rt.clone();
        workers.push(std::thread::spawn(move || {
            let log = rt.logger("orders.worker");
            loop {
                let order = match rx.lock().map(|r| r.recv()) {
                    Ok(Ok(o)) => o,
                    _ => break,
                };
                let rid = format!("req-{:04}", order.id);
                let req = log
                    .child(&[Field::str("request_id", &rid), Field::i64("worker", w)])
                    .expect("bound fields are valid");
                let mut trace_id = [0u8; 16];
                trace_id[8..]
                    .copy_from_slice(&order.id.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes());
                trace_id[0] = 0x4b;
                let span = (order.id + 1).to_be_bytes();
                ringlog::context::set_current(TraceContext::new(trace_id, span, 1));
                req.info(
                    "order received",
                    &[
                        Field::str("user", order.user),
                        Field::i64("cents", order.cents),
                    ],
                )
                .ok();
                if order.cents > 50_000 {
                    req.error(
                        "payment declined",
                        &[
                            Field::str("reason", "limit exceeded"),
                            Field::i64("limit_cents", 50_000),
                        ],
                    )
                    .ok();
                } else {
                    let fee = order.cents as f64 * 0.029 + 30.0;
                    req.info("payment captured", &[Field::f64("fee_cents", fee)])
                        .ok();
                }
                ringlog::context::clear_current();
            }
        }));
    }
    let users = ["alice", "bob", "carol", "dave"];
    for id in 1..=12u64 {
        let cents = if id % 5 == 0 {
            75_000
        } else {
            1_000 * id as i64 + 99
        };
        tx.send(Order {
            id,
            user: users[id as usize % users.len()],
            cents,
        })
        .expect("workers are running");
    }
    drop(tx);
    for w in workers {
        w.join().expect("worker panicked");
    }
    let s = rt.stats();
    log.info(
        "service stopping",
        &[
            Field::u64("logged", s.logged),
            Field::u64("dropped", s.dropped_full),
        ],
    )
    .ok();
    if let Err(e) = rt.shutdown(Duration::from_secs(5)) {
        eprintln!("ringlog shutdown: {e}");
        std::process::exit(1);
    }
}
