using System.Diagnostics;
using System.Text.Json;
using KvActors.Cli;

namespace KvActors.Cluster.Tests;

/// <summary>
/// kvctl against the eight-shard cluster through its contact points, run in-process: each command's output and exit
/// code, the <c>--json</c> shapes scripts read, and one line on stderr for every failure.
/// </summary>
[Collection(ReceptionistClusterCollection.Name)]
public sealed class KvctlTests(ReceptionistCluster cluster)
{
    private Task<KvctlRun> Kvctl(params string[] args) => KvctlRun.Of(["--endpoints", cluster.EndpointList, .. args]);

    [Fact]
    public async Task Put_then_get_prints_OK_with_the_revision_and_then_the_value()
    {
        KvctlRun put = await Kvctl("put", "cli/get", "héllo wörld");
        KvctlRun get = await Kvctl("get", "cli/get");

        put.Code.Should().Be(KvctlExitCode.Ok, put.ToString());
        put.Out.Should().MatchRegex(@"^OK \(revision [1-9][0-9]*\)\r?\n$");
        put.Err.Should().BeEmpty();
        get.Code.Should().Be(0, get.ToString());
        get.Out.Should().Be("héllo wörld" + Environment.NewLine);
    }

    [Fact]
    public async Task Json_put_and_get_print_the_revision_and_the_pair_with_its_metadata()
    {
        JsonElement put = (await Kvctl("--json", "put", "cli/json", "v1")).Json();
        KvctlRun getRun = await Kvctl("get", "cli/json", "--json");
        JsonElement get = getRun.Json();

        put.PropertyNames().Should().Equal("key", "revision");
        put.GetProperty("revision").GetUInt64().Should().BeGreaterThan(0);
        getRun.Code.Should().Be(0);
        get.PropertyNames().Should().Equal("key", "value", "found", "modRevision", "createRevision", "version");
        get.GetProperty("key").GetString().Should().Be("cli/json");
        get.GetProperty("value").GetString().Should().Be("v1");
        get.GetProperty("found").GetBoolean().Should().BeTrue();
        get.GetProperty("modRevision").GetUInt64().Should().Be(put.GetProperty("revision").GetUInt64());
        get.GetProperty("createRevision").GetUInt64().Should().Be(put.GetProperty("revision").GetUInt64());
        get.GetProperty("version").GetUInt64().Should().Be(1);
    }

    [Fact]
    public async Task Get_of_an_absent_key_exits_1_saying_not_found_and_json_says_found_false()
    {
        KvctlRun text = await Kvctl("get", "cli/absent");
        KvctlRun json = await Kvctl("--json", "get", "cli/absent");

        text.Code.Should().Be(KvctlExitCode.NotFoundOrConflict);
        text.Out.Should().BeEmpty();
        text.ErrLines.Should().ContainSingle().Which.Should().Contain("not found").And.Contain("cli/absent");
        json.Code.Should().Be(KvctlExitCode.NotFoundOrConflict);
        json.Json().GetProperty("found").GetBoolean().Should().BeFalse();
        json.Json().GetProperty("value").ValueKind.Should().Be(JsonValueKind.Null);
        json.ErrLines.Should().ContainSingle().Which.Should().Contain("not found");
    }

    [Fact]
    public async Task Del_removes_the_key_and_an_absent_key_is_not_an_error()
    {
        await Kvctl("put", "cli/del", "x");

        KvctlRun deleted = await Kvctl("del", "cli/del");
        KvctlRun again = await Kvctl("--json", "del", "cli/del");
        KvctlRun get = await Kvctl("get", "cli/del");

        deleted.Code.Should().Be(0, deleted.ToString());
        deleted.Out.Trim().Should().Be("deleted");
        again.Code.Should().Be(0);
        again.Json().GetProperty("deleted").GetBoolean().Should().BeFalse();
        get.Code.Should().Be(KvctlExitCode.NotFoundOrConflict);
    }

    [Fact]
    public async Task Range_prints_pairs_in_key_order_and_json_carries_kvs_more_and_count()
    {
        for (int i = 0; i < 5; i++) (await Kvctl("put", $"cli-range/{i}", $"v{i}")).Code.Should().Be(0);

        KvctlRun text = await Kvctl("range", "cli-range/", "cli-range0");
        KvctlRun limited = await Kvctl("--json", "range", "cli-range/", "cli-range0", "--limit", "3");
        JsonElement json = limited.Json();

        text.Code.Should().Be(0, text.ToString());
        text.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r'))
            .Should().Equal("cli-range/0 = v0", "cli-range/1 = v1", "cli-range/2 = v2", "cli-range/3 = v3", "cli-range/4 = v4");
        json.PropertyNames().Should().Equal("kvs", "more", "count");
        json.GetProperty("kvs").EnumerateArray().Select(kv => kv.GetProperty("key").GetString()).Should().Equal("cli-range/0", "cli-range/1", "cli-range/2");
        json.GetProperty("kvs")[0].PropertyNames().Should().Equal("key", "value", "modRevision", "createRevision", "version");
        json.GetProperty("kvs")[2].GetProperty("value").GetString().Should().Be("v2");
        json.GetProperty("more").GetBoolean().Should().BeTrue();
        json.GetProperty("count").GetInt32().Should().Be(3);

        KvctlRun everything = await Kvctl("range", "", "");
        everything.Code.Should().Be(0, everything.ToString());
        everything.Out.Should().Contain("cli-range/0 = v0").And.Contain("cli-range/4 = v4", "an empty FROM starts at the first key and an empty TO ends at the last");
    }

    [Fact]
    public async Task Cas_writes_when_the_expectation_holds_and_a_failed_compare_exits_1_saying_conflict()
    {
        KvctlRun created = await Kvctl("cas", "cli/cas", "--expect-absent", "1");
        KvctlRun swapped = await Kvctl("--json", "cas", "cli/cas", "1", "2");
        KvctlRun stale = await Kvctl("cas", "cli/cas", "1", "3");
        KvctlRun staleJson = await Kvctl("--json", "cas", "cli/cas", "--expect-absent", "4");

        created.Code.Should().Be(0, created.ToString());
        created.Out.Should().StartWith("OK");
        swapped.Code.Should().Be(0, swapped.ToString());
        JsonElement ok = swapped.Json();
        ok.PropertyNames().Should().Equal("succeeded", "key", "value", "modRevision", "createRevision", "version");
        ok.GetProperty("succeeded").GetBoolean().Should().BeTrue();
        ok.GetProperty("value").GetString().Should().Be("2");
        ok.GetProperty("version").GetUInt64().Should().Be(2);
        stale.Code.Should().Be(KvctlExitCode.NotFoundOrConflict);
        stale.ErrLines.Should().ContainSingle().Which.Should().Contain("conflict").And.Contain("'2'");
        staleJson.Code.Should().Be(KvctlExitCode.NotFoundOrConflict);
        staleJson.Json().GetProperty("succeeded").GetBoolean().Should().BeFalse();
        staleJson.Json().GetProperty("value").GetString().Should().Be("2", "a conflict shows the pair that failed the compare");
        (await Kvctl("get", "cli/cas")).Out.Trim().Should().Be("2");
    }

    [Theory]
    [InlineData(new[] { "get" }, "Required argument missing")]
    [InlineData(new[] { "frob", "k" }, "unknown command or argument 'frob'")]
    [InlineData(new[] { "put", "k" }, "Required argument missing")]
    [InlineData(new[] { "put", "k", "v", "extra" }, "unknown command or argument 'extra'")]
    [InlineData(new[] { "--endpoints", "nope", "get", "k" }, "'nope' is not host:port")]
    [InlineData(new[] { "--endpoints", "", "get", "k" }, "empty")]
    [InlineData(new[] { "cas", "k", "only-one" }, "cas takes KEY EXPECTED NEW")]
    [InlineData(new[] { "cas", "k", "--expect-absent", "a", "b" }, "--expect-absent NEW")]
    [InlineData(new[] { "range", "a", "b", "--limit", "many" }, "many")]
    [InlineData(new[] { "--timeout", "0", "get", "k" }, "--timeout is '0'")]
    [InlineData(new[] { "--timeout", "abc", "get", "k" }, "--timeout is 'abc'")]
    [InlineData(new string[0], "Required command")]
    public async Task A_malformed_command_line_exits_2_with_one_line_saying_why(string[] args, string reason)
    {
        KvctlRun run = await KvctlRun.Of(args);

        run.Code.Should().Be(KvctlExitCode.BadInput, run.ToString());
        run.Out.Should().BeEmpty();
        run.ErrLines.Should().ContainSingle().Which.Should().Contain(reason);
    }

    [Fact]
    public async Task Input_the_cluster_refuses_exits_2_naming_the_limit()
    {
        KvctlRun run = await Kvctl("put", new string('k', 5000), "v");

        run.Code.Should().Be(KvctlExitCode.BadInput, run.ToString());
        run.ErrLines.Should().ContainSingle().Which.Should().Contain("4096");
    }

    [Fact]
    public async Task An_unreachable_cluster_exits_3_within_the_timeout_naming_the_endpoints()
    {
        string dead = $"{ReceptionistCluster.DeadEndpoint()},{ReceptionistCluster.DeadEndpoint()}";
        var clock = Stopwatch.StartNew();

        KvctlRun run = await KvctlRun.Of("--endpoints", dead, "--timeout", "1", "get", "k");

        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(6));
        run.Code.Should().Be(KvctlExitCode.Unavailable, run.ToString());
        run.Out.Should().BeEmpty();
        run.ErrLines.Should().ContainSingle().Which.Should().Be($"kvctl: no node answered at {dead} within 1 s");
    }

    [Fact]
    public async Task Help_exits_0_and_names_every_command()
    {
        KvctlRun run = await KvctlRun.Of("--help");

        run.Code.Should().Be(0);
        foreach (string command in new[] { "put", "get", "del", "range", "cas", "status", "--endpoints", "--json", "--timeout" })
            run.Out.Should().Contain(command);
    }
}
