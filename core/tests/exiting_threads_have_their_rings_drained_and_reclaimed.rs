mod common;
use ringlog::Field;

fn ring_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("ring-")
        })
        .count()
}

#[test]
fn exiting_threads_have_their_rings_drained_and_reclaimed() {
    let h = common::start(|_| {});
    let log = h.rt.logger("worker");
    for t in 0..8 {
        let log = log.clone();
        std::thread::spawn(move || {
            for i in 0..100 {
                log.info("job", &[Field::i64("t", t), Field::i64("i", i)])
                    .unwrap();
            }
        })
        .join()
        .unwrap();
    }
    // Reclaim happens on the flusher's own schedule; wait for it.
    let deadline = std::time::Instant::now() + common::WAIT;
    while h.rt.stats().rings_reclaimed < 8 && std::time::Instant::now() < deadline {
        h.flush();
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let s = h.rt.stats();
    assert_eq!(s.rings_reclaimed, 8);
    assert_eq!(s.rings_active, 0);
    assert_eq!(s.logged, 800, "counts of reclaimed rings are kept");
    assert_eq!(h.with_msg("job").len(), 800);
    assert_eq!(ring_files(h.rt.instance_dir()), 0, "ring files are deleted");
}
