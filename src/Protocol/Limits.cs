using System.Globalization;
using Google.Protobuf;
using KvActors.Protocol.Wire;

namespace KvActors.Protocol;

/// <summary>
/// The size limits on client commands, checked once where a request enters (client, Gateway) and again by the
/// state machine before it applies a logged command, so that nothing over a limit ever changes a shard.
/// Every replica of a shard must use the same limits: a command refused by one and applied by another would
/// make them diverge.
/// </summary>
/// <remarks>
/// <para>Keys are 1..<see cref="MaxKeyBytes"/> bytes; values 0..<see cref="MaxValueBytes"/>. Range bounds
/// follow the key rule, except that an empty range end means "to the end of the shard". There is no special
/// "whole shard" start: every key is at least one byte long, so a range from the one-byte key <c>0x00</c>
/// with an empty end covers the whole shard (<see cref="WholeShardStart"/>).</para>
/// <para><see cref="Validate"/> returns a value, never throws: refusing bad input is an expected outcome.</para>
/// </remarks>
public sealed record KvLimits
{
    /// <summary>The limits every node and client uses unless configured otherwise.</summary>
    public static KvLimits Default { get; } = new();

    /// <summary>The length in bytes of a non-empty <see cref="KvRequest.ClientId"/>.</summary>
    public const int ClientIdBytes = 16;

    /// <summary>The range start that, with an empty end, covers a whole shard: the one-byte key <c>0x00</c>,
    /// at or before which every key sorts.</summary>
    public static ReadOnlySpan<byte> WholeShardStart => [0];

    /// <summary>The longest key, in bytes; keys are at least 1 byte. Default 4096.</summary>
    public int MaxKeyBytes { get; init; } = 4096;

    /// <summary>The longest value, in bytes (also a CAS or Txn value operand). Default 1 MiB.</summary>
    public int MaxValueBytes { get; init; } = 1024 * 1024;

    /// <summary>The most compares, and the most ops in each branch, of one Txn. Default 128 (etcd's
    /// <c>max-txn-ops</c>).</summary>
    public int MaxTxnOps { get; init; } = 128;

    /// <summary>The most pairs one Range answers with; also the effective limit of a Range whose limit is 0.
    /// A larger requested limit is refused. Default 10,000.</summary>
    public int MaxRangeLimit { get; init; } = 10_000;

    /// <summary>The most key and value bytes one Range reply carries: the pairs stop before they would exceed
    /// it and the reply says <c>more</c> (one pair is always returned if the range holds any, so a client can
    /// always make progress). Not a refusal: a request cannot know the sizes in advance. Default 4 MiB.</summary>
    public int MaxRangeReplyBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// Checks a request against these limits and the wire contract of <c>kv.proto</c> (client id and sequence
    /// go together, exactly one command, CAS has an expectation, Txn compares match their operands).
    /// </summary>
    /// <param name="request">The request as received.</param>
    /// <returns><see cref="ValidationResult.Ok"/>, or the first problem found: <see cref="ErrorCode.TooLarge"/>
    /// for a key or value over its limit, <see cref="ErrorCode.InvalidArgument"/> for anything else.</returns>
    public ValidationResult Validate(KvRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        int clientIdBytes = request.ClientId.Length;
        if (clientIdBytes != 0 && clientIdBytes != ClientIdBytes)
            return ValidationResult.Invalid(Format($"client id is {clientIdBytes} bytes; it must be {ClientIdBytes}, or empty for no session"));
        if (clientIdBytes == 0 && request.Sequence != 0)
            return ValidationResult.Invalid(Format($"sequence {request.Sequence} needs a client id"));
        if (clientIdBytes != 0 && request.Sequence == 0)
            return ValidationResult.Invalid("a client id needs a sequence of at least 1");

        return request.CommandCase switch
        {
            KvRequest.CommandOneofCase.Put => CheckPut(request.Put),
            KvRequest.CommandOneofCase.Delete => CheckKey(request.Delete.Key, "key"),
            KvRequest.CommandOneofCase.Get => CheckKey(request.Get.Key, "key"),
            KvRequest.CommandOneofCase.Range => CheckRange(request.Range),
            KvRequest.CommandOneofCase.CompareAndSwap => CheckCompareAndSwap(request.CompareAndSwap),
            KvRequest.CommandOneofCase.Txn => CheckTxn(request.Txn),
            _ => ValidationResult.Invalid("the request carries no command"),
        };
    }

    private ValidationResult CheckPut(PutRequest put)
    {
        ValidationResult key = CheckKey(put.Key, "key");
        return key.IsOk ? CheckValue(put.Value, "value") : key;
    }

    private ValidationResult CheckRange(RangeRequest range)
    {
        ValidationResult start = CheckKey(range.Start, "range start");
        if (!start.IsOk) return start;
        if (!range.End.IsEmpty)
        {
            if (range.End.Length > MaxKeyBytes)
                return ValidationResult.TooLarge(Format($"range end is {range.End.Length} bytes; the limit is {MaxKeyBytes}"));
            if (range.End.Span.SequenceCompareTo(range.Start.Span) <= 0)
                return ValidationResult.Invalid(Format($"range end sorts at or before its start; an empty end means to the end of the shard"));
        }
        if (range.Limit > (uint)MaxRangeLimit)
            return ValidationResult.Invalid(Format($"range limit is {range.Limit}; the limit is {MaxRangeLimit}"));
        return ValidationResult.Ok;
    }

    private ValidationResult CheckCompareAndSwap(CompareAndSwapRequest cas)
    {
        ValidationResult key = CheckKey(cas.Key, "key");
        if (!key.IsOk) return key;
        switch (cas.ExpectedCase)
        {
            case CompareAndSwapRequest.ExpectedOneofCase.ExpectedValue:
                ValidationResult expected = CheckValue(cas.ExpectedValue, "expected value");
                if (!expected.IsOk) return expected;
                break;
            case CompareAndSwapRequest.ExpectedOneofCase.ExpectedModRevision when cas.ExpectedModRevision == 0:
                return ValidationResult.Invalid("expected mod revision is 0, which no key has; to expect an absent key, set expect_absent");
            case CompareAndSwapRequest.ExpectedOneofCase.ExpectedModRevision:
                break;
            case CompareAndSwapRequest.ExpectedOneofCase.ExpectAbsent when cas.ExpectAbsent:
                break;
            default:
                return ValidationResult.Invalid("compare-and-swap has no expectation; set expected_value, expected_mod_revision or expect_absent");
        }
        return CheckValue(cas.NewValue, "new value");
    }

    private ValidationResult CheckTxn(TxnRequest txn)
    {
        if (txn.Compares.Count > MaxTxnOps)
            return ValidationResult.Invalid(Format($"txn has {txn.Compares.Count} compares; the limit is {MaxTxnOps}"));
        if (txn.Success.Count > MaxTxnOps)
            return ValidationResult.Invalid(Format($"txn has {txn.Success.Count} success ops; the limit is {MaxTxnOps}"));
        if (txn.Failure.Count > MaxTxnOps)
            return ValidationResult.Invalid(Format($"txn has {txn.Failure.Count} failure ops; the limit is {MaxTxnOps}"));
        for (int i = 0; i < txn.Compares.Count; i++)
        {
            ValidationResult compare = CheckCompare(txn.Compares[i]);
            if (!compare.IsOk) return Prefixed(compare, Format($"txn compare {i}: "));
        }
        ValidationResult success = CheckOps(txn.Success, "success");
        return success.IsOk ? CheckOps(txn.Failure, "failure") : success;
    }

    private ValidationResult CheckCompare(Compare compare)
    {
        ValidationResult key = CheckKey(compare.Key, "key");
        if (!key.IsOk) return key;
        Compare.OperandOneofCase wanted = compare.Target switch
        {
            Compare.Types.Target.Value => Compare.OperandOneofCase.Value,
            Compare.Types.Target.Version => Compare.OperandOneofCase.Version,
            Compare.Types.Target.CreateRevision => Compare.OperandOneofCase.CreateRevision,
            Compare.Types.Target.ModRevision => Compare.OperandOneofCase.ModRevision,
            _ => Compare.OperandOneofCase.None,
        };
        if (wanted == Compare.OperandOneofCase.None)
            return ValidationResult.Invalid(Format($"target {compare.Target} is not one of VALUE, VERSION, CREATE_REVISION, MOD_REVISION"));
        if (compare.Result is not (Compare.Types.Result.Equal or Compare.Types.Result.NotEqual or Compare.Types.Result.Greater or Compare.Types.Result.Less))
            return ValidationResult.Invalid(Format($"result {compare.Result} is not one of EQUAL, NOT_EQUAL, GREATER, LESS"));
        if (compare.OperandCase != wanted)
            return ValidationResult.Invalid(Format($"target {compare.Target} needs the {wanted} operand, not {compare.OperandCase}"));
        return compare.OperandCase == Compare.OperandOneofCase.Value ? CheckValue(compare.Value, "value") : ValidationResult.Ok;
    }

    private ValidationResult CheckOps(Google.Protobuf.Collections.RepeatedField<Op> ops, string branch)
    {
        for (int i = 0; i < ops.Count; i++)
        {
            Op op = ops[i];
            ValidationResult result = op.OpCase switch
            {
                Op.OpOneofCase.Put => CheckPut(op.Put),
                Op.OpOneofCase.Delete => CheckKey(op.Delete.Key, "key"),
                Op.OpOneofCase.Get => CheckKey(op.Get.Key, "key"),
                Op.OpOneofCase.Range => CheckRange(op.Range),
                _ => ValidationResult.Invalid("the op carries no operation"),
            };
            if (!result.IsOk) return Prefixed(result, Format($"txn {branch} op {i}: "));
        }
        return ValidationResult.Ok;
    }

    // Says where in a Txn the problem is; built only for a refused request, so accepted ones allocate nothing.
    private static ValidationResult Prefixed(ValidationResult result, string where) =>
        result with { Message = where + result.Message };

    private ValidationResult CheckKey(ByteString key, string name)
    {
        if (key.IsEmpty)
            return ValidationResult.Invalid(Format($"{name} is empty; keys are 1 to {MaxKeyBytes} bytes"));
        if (key.Length > MaxKeyBytes)
            return ValidationResult.TooLarge(Format($"{name} is {key.Length} bytes; the limit is {MaxKeyBytes}"));
        return ValidationResult.Ok;
    }

    private ValidationResult CheckValue(ByteString value, string name) =>
        value.Length > MaxValueBytes
            ? ValidationResult.TooLarge(Format($"{name} is {value.Length} bytes; the limit is {MaxValueBytes}"))
            : ValidationResult.Ok;

    private static string Format(FormattableString message) => message.ToString(CultureInfo.InvariantCulture);
}
