-- The production archive is a copy of the adjusted view: the deduplicated bars on the latest
-- split basis, the as-traded values beside them, partition column last.
SELECT ${columns}
FROM ${adjusted_view}
