using Akka.Configuration;
using KvActors.Node.Hosting;
using KvActors.Node.Replica;

namespace KvActors.Node.Tests.Replica;

/// <summary>The node's HOCON defaults parse, and a bad value stops the node at start with the key's name.</summary>
public sealed class ReplicaSettingsTests
{
    private static Config Defaults(string overlay = "") =>
        ConfigurationFactory.ParseString(overlay).WithFallback(ConfigurationFactory.ParseString(KvActorsConfig.Hocon("kvactors.conf")));

    [Fact]
    public void The_shipped_defaults_parse_into_the_documented_values()
    {
        ReplicaSettings settings = ReplicaSettings.From(Defaults());

        settings.TickInterval.Should().Be(TimeSpan.FromMilliseconds(100));
        settings.RaftTemplate.ElectionTimeoutTicks.Should().Be(10);
        settings.RaftTemplate.HeartbeatIntervalTicks.Should().Be(1);
        settings.RaftTemplate.PreVote.Should().BeTrue();
        settings.RaftTemplate.CheckQuorum.Should().BeTrue();
        settings.RaftTemplate.MaxAppendBytes.Should().Be(1024 * 1024);
        settings.RaftTemplate.MaxSnapshotChunkBytes.Should().Be(1024 * 1024);
        settings.SnapshotEveryEntries.Should().Be(10_000);
        settings.SnapshotEveryBytes.Should().Be(64L * 1024 * 1024);
        settings.RequestDeadline.Should().Be(TimeSpan.FromSeconds(5));
    }

    [Theory]
    [InlineData("kvactors.replica.election-timeout-ticks = 1", "ElectionTimeoutTicks")]
    [InlineData("kvactors.replica.max-append-bytes = 0", "max-append-bytes")]
    [InlineData("kvactors.replica.tick-interval = 0s", "tick-interval")]
    [InlineData("kvactors.replica.snapshot-every-entries = 0", "snapshot-every-entries")]
    [InlineData("kvactors.replica.max-pending-requests = 0", "max-pending-requests")]
    public void A_bad_value_is_refused_naming_its_key(string overlay, string key)
    {
        var act = () => ReplicaSettings.From(Defaults(overlay));

        act.Should().Throw<ConfigurationException>().WithMessage($"*{key}*");
    }

    [Fact]
    public void Akka_Remote_frames_fit_the_largest_append_and_snapshot_chunk()
    {
        Config config = Defaults();
        long frame = config.GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size") ?? 0;
        ReplicaSettings settings = ReplicaSettings.From(config);

        frame.Should().BeGreaterThan(settings.RaftTemplate.MaxAppendBytes, "an append of max-append-bytes must fit in one frame");
        frame.Should().BeGreaterThan(settings.RaftTemplate.MaxSnapshotChunkBytes, "a snapshot chunk must fit in one frame");
    }
}
