using Google.Protobuf;
using KvActors.Node.StateMachine;
using KvActors.Protocol;
using KvActors.Protocol.Wire;

namespace KvActors.Node.Tests.StateMachine;

/// <summary>Keys 1..4096 bytes, values up to the configured limit, well-formed commands: anything else gets
/// InvalidArgument or TooLarge with a one-line reason, and changes nothing but the applied index.</summary>
public sealed class BadInputTests
{
    private readonly Shard _shard = new();

    public BadInputTests() => _shard.Apply(Kv.Put("existing", "1"));

    private void ShouldBeRefused(KvReply reply, ErrorCode error, string message)
    {
        reply.Error.Should().Be(error);
        reply.Message.Should().Match(message);
        reply.ResultCase.Should().Be(KvReply.ResultOneofCase.None);
        reply.Revision.Should().Be(1);
        _shard.Dump().Should().Equal("existing=1@1/1/1");
        _shard.Machine.Revision.Should().Be(1);
    }

    public static TheoryData<string, KvRequest> EmptyKeys => new()
    {
        { "put", Kv.Put("", "v") },
        { "delete", Kv.Delete("") },
        { "get", Kv.Get("") },
        { "range", Kv.Range("") },
        { "cas", Kv.CasAbsent("", "v") },
        { "txn op", Kv.Txn([], [Kv.OpPut("ok", "v"), Kv.OpPut("", "v")]) },
    };

    [Theory]
    [MemberData(nameof(EmptyKeys))]
    public void An_empty_key_is_an_invalid_argument(string command, KvRequest request)
    {
        ShouldBeRefused(_shard.Apply(request), ErrorCode.InvalidArgument, "*is empty; keys are 1 to 4096 bytes");
        command.Should().NotBeEmpty();
    }

    [Fact]
    public void A_key_of_4097_bytes_is_too_large_and_the_message_names_the_size_and_the_limit()
    {
        KvRequest put = new() { Put = new PutRequest { Key = Kv.Bytes(4097), Value = Kv.Bytes("v") } };

        ShouldBeRefused(_shard.Apply(put), ErrorCode.TooLarge, "key is 4097 bytes; the limit is 4096");
    }

    [Fact]
    public void A_key_of_exactly_4096_bytes_is_accepted()
    {
        KvRequest put = new() { Put = new PutRequest { Key = Kv.Bytes(4096), Value = Kv.Bytes("v") } };

        _shard.Apply(put).Error.Should().Be(ErrorCode.Ok);
    }

    [Fact]
    public void A_value_over_the_configured_limit_is_too_large_and_one_at_the_limit_is_accepted()
    {
        var shard = new Shard(new StateMachineSettings { Limits = new KvLimits { MaxValueBytes = 10 } });

        KvReply over = shard.Apply(new KvRequest { Put = new PutRequest { Key = Kv.Bytes("k"), Value = Kv.Bytes(11) } });
        KvReply at = shard.Apply(new KvRequest { Put = new PutRequest { Key = Kv.Bytes("k"), Value = Kv.Bytes(10) } });

        over.Error.Should().Be(ErrorCode.TooLarge);
        over.Message.Should().Be("value is 11 bytes; the limit is 10");
        at.Error.Should().Be(ErrorCode.Ok);
        shard.Machine.Revision.Should().Be(1);
    }

    [Fact]
    public void The_default_value_limit_is_one_mebibyte()
    {
        KvRequest put = new() { Put = new PutRequest { Key = Kv.Bytes("big"), Value = Kv.Bytes(1024 * 1024 + 1) } };

        ShouldBeRefused(_shard.Apply(put), ErrorCode.TooLarge, "value is 1048577 bytes; the limit is 1048576");
    }

    [Fact]
    public void Bytes_that_are_not_a_request_are_refused_and_still_count_as_applied()
    {
        ShouldBeRefused(_shard.Apply([0xFF, 0xFF, 0xFF]), ErrorCode.InvalidArgument, "the command is not a KvRequest: *");
        _shard.Machine.AppliedIndex.Should().Be(2);
    }

    [Fact]
    public void A_request_without_a_command_is_an_invalid_argument()
    {
        ShouldBeRefused(_shard.Apply(new KvRequest()), ErrorCode.InvalidArgument, "the request carries no command");
        ShouldBeRefused(_shard.Apply([]), ErrorCode.InvalidArgument, "the request carries no command");
    }

    [Fact]
    public void A_compare_and_swap_without_an_expectation_is_an_invalid_argument()
    {
        KvRequest none = new() { CompareAndSwap = new CompareAndSwapRequest { Key = Kv.Bytes("existing"), NewValue = Kv.Bytes("2") } };
        KvRequest falseAbsent = new() { CompareAndSwap = new CompareAndSwapRequest { Key = Kv.Bytes("k"), ExpectAbsent = false, NewValue = Kv.Bytes("2") } };

        ShouldBeRefused(_shard.Apply(none), ErrorCode.InvalidArgument, "compare-and-swap has no expectation*");
        ShouldBeRefused(_shard.Apply(falseAbsent), ErrorCode.InvalidArgument, "compare-and-swap has no expectation*");
        ShouldBeRefused(_shard.Apply(Kv.CasModRevision("existing", 0, "2")), ErrorCode.InvalidArgument, "expected mod revision is 0*");
    }

    [Fact]
    public void A_txn_over_the_op_limit_is_refused_whole()
    {
        Op[] ops = [.. Enumerable.Range(0, 129).Select(i => Kv.OpPut($"k{i}", "v"))];

        ShouldBeRefused(_shard.Apply(Kv.Txn([], ops)), ErrorCode.InvalidArgument, "txn has 129 success ops; the limit is 128");
    }

    [Fact]
    public void A_txn_with_one_bad_op_or_compare_is_refused_whole_and_says_where()
    {
        KvRequest badOp = Kv.Txn([], [Kv.OpPut("fine", "v"), new Op()]);
        var compare = new Compare { Key = Kv.Bytes("existing"), Target = Compare.Types.Target.Version, Result = Compare.Types.Result.Equal, Value = Kv.Bytes("1") };
        KvRequest badCompare = Kv.Txn([compare], [Kv.OpPut("fine", "v")]);

        ShouldBeRefused(_shard.Apply(badOp), ErrorCode.InvalidArgument, "txn success op 1: the op carries no operation");
        ShouldBeRefused(_shard.Apply(badCompare), ErrorCode.InvalidArgument, "txn compare 0: target Version needs the Version operand, not Value");
    }

    [Fact]
    public void A_range_whose_end_is_not_after_its_start_or_whose_limit_is_too_high_is_refused()
    {
        ShouldBeRefused(_shard.Apply(Kv.Range("b", "a")), ErrorCode.InvalidArgument, "range end sorts at or before its start*");
        ShouldBeRefused(_shard.Apply(Kv.Range("b", "b")), ErrorCode.InvalidArgument, "range end sorts at or before its start*");
        ShouldBeRefused(_shard.Apply(Kv.Range("a", limit: 10_001)), ErrorCode.InvalidArgument, "range limit is 10001; the limit is 10000");
    }

    [Fact]
    public void A_client_id_and_a_sequence_come_together_and_the_id_is_16_bytes()
    {
        KvRequest shortId = Kv.Put("a", "1");
        shortId.ClientId = ByteString.CopyFrom(1, 2, 3);
        shortId.Sequence = 1;
        KvRequest sequenceOnly = Kv.Put("a", "1");
        sequenceOnly.Sequence = 4;
        KvRequest idOnly = Kv.Put("a", "1").InSession(1, 0);

        ShouldBeRefused(_shard.Apply(shortId), ErrorCode.InvalidArgument, "client id is 3 bytes; it must be 16, or empty for no session");
        ShouldBeRefused(_shard.Apply(sequenceOnly), ErrorCode.InvalidArgument, "sequence 4 needs a client id");
        ShouldBeRefused(_shard.Apply(idOnly), ErrorCode.InvalidArgument, "a client id needs a sequence of at least 1");
    }

    [Fact]
    public void Reads_outside_the_log_are_checked_too()
    {
        KvRequest get = new() { Get = new GetRequest { Key = Kv.Bytes(5000) } };

        ShouldBeRefused(_shard.Read(get), ErrorCode.TooLarge, "key is 5000 bytes; the limit is 4096");
    }

    [Fact]
    public void Validation_accepts_a_well_formed_request_without_a_message()
    {
        ValidationResult result = KvLimits.Default.Validate(Kv.Txn([Kv.VersionIs("a", Compare.Types.Result.Equal, 0)], [Kv.OpPut("a", "1")], [Kv.OpRange("a", "b")]));

        result.IsOk.Should().BeTrue();
        result.Message.Should().BeEmpty();
    }

    [Fact]
    public void Settings_out_of_range_are_refused_by_name()
    {
        Action noSessions = () => _ = new KvStateMachine(new StateMachineSettings { MaxSessions = 0 });
        Action noKeys = () => _ = new KvStateMachine(new StateMachineSettings { Limits = new KvLimits { MaxKeyBytes = 0 } });

        noSessions.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("MaxSessions");
        noKeys.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("MaxKeyBytes");
    }
}
