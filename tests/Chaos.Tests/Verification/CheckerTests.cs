namespace KvActors.Chaos.Tests.Verification;

/// <summary>The checker on hand-made histories: what it must accept, what it must refuse, and how it says why.</summary>
public sealed class CheckerTests
{
    [Fact]
    public void A_sequential_history_is_linearizable()
    {
        var h = new Script().Put(1, "k", "v1", 0, 10).Get(1, "k", "v1", 20, 30).Delete(1, "k", 40, 50).Get(1, "k", null, 60, 70);

        HistoryChecker.Check(h.Events).Ok.Should().BeTrue();
    }

    [Fact]
    public void Overlapping_put_and_get_may_be_ordered_either_way()
    {
        HistoryChecker.Check(new Script().Put(1, "k", "v1", 0, 100).Get(2, "k", "v1", 10, 20).Events).Ok.Should().BeTrue();
        HistoryChecker.Check(new Script().Put(1, "k", "v1", 0, 100).Get(2, "k", null, 10, 20).Events).Ok.Should().BeTrue();
    }

    [Fact]
    public void A_read_of_an_old_value_after_a_newer_write_completed_is_not_linearizable_and_the_window_names_the_operations()
    {
        var h = new Script().Put(1, "k", "v1", 0, 10).Put(2, "k", "v2", 20, 30).Get(3, "k", "v1", 40, 50);

        CheckResult result = HistoryChecker.Check(h.Events);

        result.Ok.Should().BeFalse();
        Anomaly anomaly = result.Anomalies.Should().ContainSingle(a => a.Kind == "not linearizable").Subject;
        anomaly.Description.Should().Contain("key k").And.Contain("get k -> v1");
        anomaly.Window.Should().Contain(o => o.F == "get" && o.Read == "v1");
    }

    [Fact]
    public void A_read_of_a_value_never_written_is_not_linearizable()
    {
        HistoryChecker.Check(new Script().Put(1, "k", "v1", 0, 10).Get(2, "k", "v9", 20, 30).Events).Ok.Should().BeFalse();
    }

    [Fact]
    public void An_unknown_write_may_take_effect_late_or_never()
    {
        var appears = new Script().PutInfo(1, "k", "v1", 0).Get(2, "k", null, 10, 20).Get(2, "k", "v1", 1_000, 1_010);
        var never = new Script().PutInfo(1, "k", "v1", 0).Get(2, "k", null, 10, 20).Get(2, "k", null, 1_000, 1_010);

        HistoryChecker.Check(appears.Events).Ok.Should().BeTrue();
        HistoryChecker.Check(never.Events).Ok.Should().BeTrue();
    }

    [Fact]
    public void An_unknown_write_that_appears_then_disappears_then_appears_again_is_not_linearizable()
    {
        var h = new Script().PutInfo(1, "k", "v1", 0).Get(2, "k", "v1", 10, 20).Get(2, "k", null, 30, 40).Get(2, "k", "v1", 50, 60);

        HistoryChecker.Check(h.Events).Anomalies.Should().Contain(a => a.Kind == "not linearizable");
    }

    [Fact]
    public void A_cas_reported_failed_while_the_value_matched_is_not_linearizable()
    {
        var h = new Script().Put(1, "k", "a", 0, 10).Cas(2, "k", "a", "b", succeeded: false, 20, 30);

        HistoryChecker.Check(h.Events).Ok.Should().BeFalse();
    }

    [Fact]
    public void A_chain_of_cas_follows_the_register()
    {
        var h = new Script()
            .Cas(1, "k", null, "a", succeeded: true, 0, 10)
            .Cas(2, "k", "a", "b", succeeded: true, 20, 30)
            .Cas(1, "k", "a", "c", succeeded: false, 40, 50)
            .Get(3, "k", "b", 60, 70);

        HistoryChecker.Check(h.Events).Ok.Should().BeTrue();
    }

    [Fact]
    public void An_acknowledged_write_the_final_reader_does_not_find_is_reported_lost()
    {
        var h = new Script().Put(HistoryChecker.FinalReaders, "k", "v1", 0, 10).Get(3, "k", null, 100, 110);

        HistoryChecker.Check(h.Events).Anomalies.Should().Contain(a => a.Kind == "lost write" && a.Description.Contains("v1"));
    }

    [Fact]
    public void A_value_read_again_after_a_newer_one_is_reported_as_reappearing()
    {
        var h = new Script()
            .Put(1, "k", "v1", 0, 10).Get(2, "k", "v1", 20, 30)
            .Put(1, "k", "v2", 40, 50).Get(2, "k", "v2", 60, 70)
            .Get(3, "k", "v1", 80, 90);

        HistoryChecker.Check(h.Events).Anomalies.Should().Contain(a => a.Kind == "value reappeared");
    }

    [Fact]
    public void A_bank_read_whose_total_differs_is_reported()
    {
        HistoryChecker.Bank([(10, 1, [50, 50]), (20, 2, [40, 70])], total: 100)
            .Should().ContainSingle().Which.Description.Should().Contain("summing to 110, not 100");
        HistoryChecker.Bank([(10, 1, [50, 50]), (20, 2, [30, 70])], total: 100).Should().BeEmpty();
    }

    [Fact]
    public void Malformed_histories_are_reported_not_thrown()
    {
        var h = new Script();
        h.Events.Add(HistoryEvent.Invoked(1, "put", "k", "a", 0));
        h.Events.Add(HistoryEvent.Invoked(1, "put", "k", "b", 5));
        h.Events.Add(HistoryEvent.Completed(2, "ok", "put", "k", 6));

        HistoryChecker.Check(h.Events).Anomalies.Where(a => a.Kind == "malformed history").Should().HaveCount(2);
    }

    [Fact]
    public void Events_serialize_to_the_exact_json_line_and_read_back_equal()
    {
        HistoryJson.Line(HistoryEvent.Invoked(3, "put", "k1", "v17", 1234))
            .Should().Be("""{"process":3,"type":"invoke","f":"put","key":"k1","value":"v17","time":1234}""");
        HistoryJson.Line(HistoryEvent.Completed(3, "ok", "get", "k1", 99, value: null))
            .Should().Be("""{"process":3,"type":"ok","f":"get","key":"k1","value":null,"time":99}""");
        HistoryJson.Line(HistoryEvent.CasInvoked(2, "k", expected: null, "v", 5))
            .Should().Be("""{"process":2,"type":"invoke","f":"cas","key":"k","expected":null,"value":"v","time":5}""");
        HistoryJson.Line(HistoryEvent.Completed(2, "ok", "cas", "k", 6, succeeded: true))
            .Should().Be("""{"process":2,"type":"ok","f":"cas","key":"k","succeeded":true,"time":6}""");

        var events = new Script().Put(1, "k", "a", 0, 1).Cas(1, "k", "a", "b", true, 2, 3).Get(2, "k", null, 4, 5).PutInfo(3, "k", "c", 6).Events;
        string path = Path.GetTempFileName();
        try
        {
            HistoryJson.Write(path, events);
            HistoryJson.Read(path).Should().Equal(events);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Random_linearizable_histories_are_accepted_and_a_read_of_a_value_never_written_is_refused()
    {
        for (int seed = 1; seed <= 40; seed++)
        {
            List<HistoryEvent> history = RandomRegisterHistory(seed, processes: 6, operations: 120);
            CheckResult result = HistoryChecker.Check(history);
            result.Anomalies.Where(a => a.Kind is "not linearizable" or "unknown").Should().BeEmpty($"seed {seed}: {result}");

            int victim = history.FindLastIndex(e => e is { Type: "ok", F: "get" });
            history[victim] = history[victim] with { Value = "never-written" };
            HistoryChecker.Check(history).Anomalies.Should().Contain(a => a.Kind == "not linearizable", $"seed {seed}");
        }
    }

    [Fact]
    public void A_long_history_of_many_concurrent_processes_on_one_key_is_checked_without_exhausting_the_search()
    {
        List<HistoryEvent> history = RandomRegisterHistory(seed: 7, processes: 16, operations: 2_000);

        CheckResult result = HistoryChecker.Check(history, maxStatesPerKey: 2_000_000);

        result.Ok.Should().BeTrue(result.ToString());
        result.Operations.Should().Be(2_000);
    }

    /// <summary>
    /// A register run by concurrent processes in simulated time: each operation takes effect at one random instant
    /// between its invocation and completion, so the history is linearizable by construction.
    /// </summary>
    private static List<HistoryEvent> RandomRegisterHistory(int seed, int processes, int operations)
    {
        var random = new Random(seed);
        var pending = new List<(long At, int Order, Action Effect)>();
        var events = new List<(long Time, int Order, HistoryEvent Event)>();
        string? register = null;
        int order = 0, written = 0;
        var free = new long[processes];
        for (int i = 0; i < operations; i++)
        {
            int p = random.Next(processes);
            long invoke = free[p] + random.Next(1, 30);
            long effect = invoke + random.Next(1, 40);
            long complete = effect + random.Next(1, 40);
            free[p] = complete;
            int kind = random.Next(4);
            int process = p + 1;
            switch (kind)
            {
                case 0:
                    string value = $"v{++written}";
                    events.Add((invoke, order++, HistoryEvent.Invoked(process, "put", "k", value, invoke)));
                    pending.Add((effect, order++, () => register = value));
                    events.Add((complete, order++, HistoryEvent.Completed(process, "ok", "put", "k", complete)));
                    break;
                case 1:
                    events.Add((invoke, order++, HistoryEvent.Invoked(process, "delete", "k", null, invoke)));
                    pending.Add((effect, order++, () => register = null));
                    events.Add((complete, order++, HistoryEvent.Completed(process, "ok", "delete", "k", complete)));
                    break;
                default:
                    int slot = events.Count;
                    events.Add((invoke, order++, HistoryEvent.Invoked(process, "get", "k", null, invoke)));
                    events.Add((complete, order++, HistoryEvent.Completed(process, "ok", "get", "k", complete)));
                    pending.Add((effect, order++, () => events[slot + 1] = events[slot + 1] with { Event = events[slot + 1].Event with { Value = register } }));
                    break;
            }
        }
        foreach ((long _, int _, Action effectOf) in pending.OrderBy(e => e.At).ThenBy(e => e.Order)) effectOf();
        return [.. events.OrderBy(e => e.Time).ThenBy(e => e.Order).Select(e => e.Event)];
    }

    /// <summary>A history written by hand: each call adds an invocation and its completion at the given times.</summary>
    private sealed class Script
    {
        public List<HistoryEvent> Events { get; } = [];

        public Script Put(int p, string key, string value, long invoke, long complete) =>
            Add(HistoryEvent.Invoked(p, "put", key, value, invoke), HistoryEvent.Completed(p, "ok", "put", key, complete));

        public Script PutInfo(int p, string key, string value, long invoke) =>
            Add(HistoryEvent.Invoked(p, "put", key, value, invoke), HistoryEvent.Completed(p, "info", "put", key, invoke + 5));

        public Script Delete(int p, string key, long invoke, long complete) =>
            Add(HistoryEvent.Invoked(p, "delete", key, null, invoke), HistoryEvent.Completed(p, "ok", "delete", key, complete));

        public Script Get(int p, string key, string? read, long invoke, long complete) =>
            Add(HistoryEvent.Invoked(p, "get", key, null, invoke), HistoryEvent.Completed(p, "ok", "get", key, complete, value: read));

        public Script Cas(int p, string key, string? expected, string value, bool succeeded, long invoke, long complete) =>
            Add(HistoryEvent.CasInvoked(p, key, expected, value, invoke), HistoryEvent.Completed(p, "ok", "cas", key, complete, succeeded: succeeded));

        private Script Add(HistoryEvent invoke, HistoryEvent complete)
        {
            Events.Add(invoke);
            Events.Add(complete);
            return this;
        }
    }
}
