-- DRS Desktop schema v8: reserved (issue 15 was told another branch might add a 0008; none had when
-- native plan links were written as 0009). It changes nothing. When merging a branch that brings its own
-- 0008, drop this file and keep that one.
SELECT 1;
