// Each test here runs a cluster of real node processes that needs the machine to itself: two at once on a 2-core
// machine (xUnit runs test classes side by side by default) starve each other's heartbeats, and the bounds the tests
// check (recovery within 90 s, healing within 90 s) would measure the other test's load.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
