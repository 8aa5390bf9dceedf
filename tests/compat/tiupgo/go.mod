module tiupgo

go 1.19
