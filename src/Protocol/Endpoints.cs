using System.Globalization;

namespace KvActors.Protocol;

/// <summary>Parses the <c>host:port</c> endpoints that name nodes on command lines and in configuration.</summary>
public static class Endpoints
{
    /// <summary>The host and port of <paramref name="endpoint"/> (<c>host:port</c>, an IPv6 host in brackets).</summary>
    /// <exception cref="FormatException">Not <c>host:port</c> with a port in 1..65535; the message quotes the text.</exception>
    public static (string Host, int Port) Parse(string endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        int colon = endpoint.LastIndexOf(':');
        if (colon <= 0 || colon == endpoint.Length - 1)
            throw new FormatException($"'{endpoint}' is not host:port");
        string host = endpoint[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        if (host.Length == 0 || host.Any(char.IsWhiteSpace))
            throw new FormatException($"'{endpoint}' is not host:port");
        if (!int.TryParse(endpoint[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
            throw new FormatException($"'{endpoint}' has no valid port (1..65535)");
        return (host, port);
    }

    /// <summary>
    /// The endpoints of a comma-separated list (<c>host:port,host:port</c>), in order, each checked by
    /// <see cref="Parse"/> and written back normalised (no spaces).
    /// </summary>
    /// <exception cref="FormatException">An empty list, a bad endpoint or one named twice.</exception>
    public static IReadOnlyList<string> ParseList(string list)
    {
        ArgumentNullException.ThrowIfNull(list);
        var endpoints = new List<string>();
        foreach (string part in list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            (string host, int port) = Parse(part);
            string normal = string.Create(CultureInfo.InvariantCulture, $"{(host.Contains(':') ? $"[{host}]" : host)}:{port}");
            if (endpoints.Contains(normal)) throw new FormatException($"'{normal}' is named twice in '{list}'");
            endpoints.Add(normal);
        }
        if (endpoints.Count == 0) throw new FormatException("the endpoint list is empty");
        return endpoints;
    }
}
