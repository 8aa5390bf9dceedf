// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Tug.Core.Topology;

/// <summary>
/// What a <c>host</c> (also <c>manage_host</c>, <c>listen_host</c>) may be: an IP address or a DNS name, nothing else,
/// because hosts are pasted into run scripts, units and Tug's own scripts that run as root.
/// </summary>
/// <remarks>
/// An IP address is stored in its canonical text (IPv4 dotted decimal without leading zeros, IPv6 as RFC 5952:
/// lowercase, zeros compressed), so <c>127.000.000.001</c> is read as <c>127.0.0.1</c>: the model, meta.yaml, the
/// instance IDs (<c>host:port</c>) and every rendered file carry that one form, and port and directory conflicts are
/// found between spellings. A part with a leading zero is accepted only when octal and decimal agree (<c>001</c>,
/// never <c>010</c>, which ssh's resolver reads as 8); other inet_aton forms (<c>127.1</c>, <c>0x7f.0.0.1</c>,
/// <c>2130706433</c>) and IPv6 zones (<c>%eth0</c>) are refused. DNS names are kept as written and compared without
/// case.
/// </remarks>
public static class HostNames
{
    /// <summary>The canonical text of a valid host: an IP address normalised, a DNS name as written; null when the text is neither.</summary>
    public static string? Normalize(string text, out string problem)
    {
        problem = string.Empty;
        if (text.Length == 0)
        {
            problem = "it is empty";
            return null;
        }

        if (text.Length > 253)
        {
            problem = "it is longer than 253 characters";
            return null;
        }

        if (text.Contains(':', StringComparison.Ordinal))
        {
            return Ipv6(text, out problem);
        }

        var labels = text.Split('.');
        if (labels.All(IsNumericLabel))
        {
            return Ipv4(labels, out problem);
        }

        foreach (var label in labels)
        {
            if (!IsDnsLabel(label))
            {
                problem = label.Length == 0
                    ? "it has an empty label (two dots in a row, or a dot at an end)"
                    : $"the label \"{label}\" is not 1 to 63 letters, digits and '-' (not first or last)";
                return null;
            }
        }

        return text;
    }

    /// <summary>Whether the text is a valid host (an IP address or a DNS name).</summary>
    public static bool IsValid(string text) => Normalize(text, out _) is not null;

    /// <summary>The text used to compare two valid hosts: lowercase; an IPv4-mapped IPv6 address as its IPv4 address.</summary>
    public static string Key(string host)
    {
        if (host.Contains(':', StringComparison.Ordinal) && IPAddress.TryParse(host, out var address) && address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }

        return host.ToLowerInvariant();
    }

    private static string? Ipv6(string text, out string problem)
    {
        problem = "it is not an IPv6 address (write it without brackets, zone or port)";
        if (!text.All(c => char.IsAsciiHexDigit(c) || c is ':' or '.'))
        {
            return null;
        }

        if (!IPAddress.TryParse(text, out var address) || address.AddressFamily != AddressFamily.InterNetworkV6 || address.ScopeId != 0)
        {
            return null;
        }

        // An IPv4 tail (::ffff:1.2.3.4) must itself be a plain dotted quad.
        var tail = text[(text.LastIndexOf(':') + 1)..];
        if (tail.Contains('.', StringComparison.Ordinal) && Ipv4(tail.Split('.'), out _) is null)
        {
            return null;
        }

        problem = string.Empty;
        return address.ToString();
    }

    private static string? Ipv4(string[] parts, out string problem)
    {
        problem = "it looks like an IPv4 address but is not four decimal numbers 0-255 (a.b.c.d)";
        if (parts.Length != 4)
        {
            return null;
        }

        var values = new int[4];
        for (var i = 0; i < 4; i++)
        {
            var part = parts[i];
            if (part.Length is 0 or > 3 || !part.All(char.IsAsciiDigit))
            {
                return null;
            }

            values[i] = int.Parse(part, NumberStyles.None, CultureInfo.InvariantCulture);
            if (values[i] > 255)
            {
                return null;
            }

            // inet_aton (ssh, ping, curl) reads a leading zero as octal: 010 is 8 there and 10 elsewhere.
            if (part.Length > 1 && part[0] == '0' && values[i] > 7)
            {
                problem = $"the part \"{part}\" has a leading zero, which some tools read as octal ({values[i].ToString(CultureInfo.InvariantCulture)} or {OctalOrNone(part)})";
                return null;
            }
        }

        problem = string.Empty;
        return string.Join('.', values.Select(v => v.ToString(CultureInfo.InvariantCulture)));
    }

    private static string OctalOrNone(string part)
    {
        var value = 0;
        foreach (var c in part)
        {
            if (c > '7')
            {
                return "not a number";
            }

            value = (value * 8) + (c - '0');
        }

        return value.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>A label inet_aton could read as a number: decimal or octal digits, or 0x and hex digits.</summary>
    private static bool IsNumericLabel(string label) =>
        (label.Length > 0 && label.All(char.IsAsciiDigit))
        || (label.Length >= 2 && label[0] == '0' && label[1] is 'x' or 'X' && label[2..].All(char.IsAsciiHexDigit));

    private static bool IsDnsLabel(string label) =>
        label.Length is >= 1 and <= 63
        && char.IsAsciiLetterOrDigit(label[0])
        && char.IsAsciiLetterOrDigit(label[^1])
        && label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');
}
